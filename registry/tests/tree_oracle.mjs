// The registry's test oracle: the JS reference tree of tests/reference/protocol.mjs
// (circomlibjs Poseidon). Reads one JSON object from stdin,
//   {"depth": d, "steps": [{"append": "<hex>"} | {"set": [index, "<hex>"]}, ...]}
// applies the steps in order and prints a JSON array with the root (64 hex
// digits) after each step.

import { buildPoseidon } from "circomlibjs";
import { Protocol, Tree } from "../../tests/reference/protocol.mjs";

const toHex = (v) => BigInt(v).toString(16).padStart(64, "0");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { depth, steps } = JSON.parse(input);

// The tree needs only Poseidon; EdDSA and Baby Jubjub take seconds to build.
const protocol = new Protocol(await buildPoseidon(), null, null);
const tree = new Tree(protocol, depth);
const roots = [];
for (const step of steps) {
    if (step.append !== undefined) {
        tree.append(BigInt("0x" + step.append));
    } else {
        const [index, value] = step.set;
        tree.leaves[index] = BigInt("0x" + value);
    }
    roots.push(toHex(tree.root()));
}
process.stdout.write(JSON.stringify(roots) + "\n");
