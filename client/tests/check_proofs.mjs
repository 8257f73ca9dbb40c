// Verifies proofs from prove_emit with snarkjs.groth16.verify and checks each
// verdict against the expected one.
//   prove_emit ... | node client/tests/check_proofs.mjs VERIFICATION_KEY.json
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const vk = JSON.parse(readFileSync(process.argv[2], "utf8"));
const items = JSON.parse(readFileSync(0, "utf8"));
let failures = 0;
for (const [i, item] of items.entries()) {
    const verified = await snarkjs.groth16.verify(vk, item.public, item.proof);
    console.log(`proof ${i}: snarkjs verified=${verified} expected=${item.expect}`);
    if (verified !== item.expect) failures++;
}
if (items.length === 0) failures++;
// snarkjs keeps curve worker threads alive.
process.exit(failures === 0 ? 0 : 1);
