// Proves the withdrawal statement (circuits/withdraw.circom) with snarkjs
// for `zkcredit withdraw`. The input holds the user's secret, so it comes on
// stdin, never in a file or an argument.
//
// stdin:  { "wasm": PATH, "zkey": PATH, "input": { circuit input } }
// stdout: { "proof": snarkjs proof, "public": [decimal strings],
//           "calldata": [8 words, 0x-hex, in the order of the Solidity
//                        verifier's verifyProof(a, b, c)] }

import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const request = JSON.parse(readFileSync(0, "utf8"));
const { proof, publicSignals } = await snarkjs.groth16.fullProve(request.input, request.wasm, request.zkey);
// snarkjs's own conversion to the verifier's calldata (it swaps the G2
// coordinates into the order the pairing precompile takes).
const [a, b, c] = JSON.parse(`[${await snarkjs.groth16.exportSolidityCallData(proof, publicSignals)}]`);
process.stdout.write(JSON.stringify({
    proof,
    public: publicSignals,
    calldata: [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]],
}));
// snarkjs keeps curve worker threads alive.
process.exit(0);
