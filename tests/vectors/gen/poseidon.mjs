// Generates tests/vectors/poseidon/poseidon.json from circomlibjs's Poseidon (the
// parameters circomlib's circuits use: x^5 S-box, t = inputs + 1, rounds per width).
// Each output is also recomputed with circomlibjs's unoptimized reference
// implementation; the two must agree before anything is written.

import { buildPoseidon, buildPoseidonReference } from "circomlibjs";
import { R } from "./lib/bn254.mjs";
import { Drbg } from "./lib/drbg.mjs";
import { write_json } from "./lib/io.mjs";

const RANDOM_PER_WIDTH = 10;

const poseidon = await buildPoseidon();
const reference = await buildPoseidonReference();
const rng = new Drbg("zkcredit/vectors/poseidon/v1");

function hash(inputs) {
    const out = poseidon.F.toObject(poseidon(inputs));
    const ref = reference.F.toObject(reference(inputs));
    if (out !== ref) throw new Error(`poseidon implementations disagree on [${inputs}]`);
    return out;
}

const cases = [];
for (let width = 1; width <= 16; width++) {
    const inputs_list = [
        Array(width).fill(0n),
        Array(width).fill(1n),
        Array(width).fill(R - 1n),
        Array.from({ length: width }, (_, i) => [0n, 1n, R - 1n][i % 3]),
    ];
    for (let i = 0; i < RANDOM_PER_WIDTH; i++) {
        inputs_list.push(Array.from({ length: width }, () => rng.below(R)));
    }
    for (const inputs of inputs_list) {
        cases.push({ inputs: inputs.map(String), output: String(hash(inputs)) });
    }
}

write_json("poseidon/poseidon.json", { cases });
console.log(`poseidon: ${cases.length} cases`);
process.exit(0);
