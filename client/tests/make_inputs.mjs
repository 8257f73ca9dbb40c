// Credit circuit inputs for the zkclient tests and benchmarks, made with the
// reference implementation (tests/reference/protocol.mjs), each with the
// witness snarkjs's wasm witness calculator computes for it.
//
//   node client/tests/make_inputs.mjs WASM OUT.json
// OUT.json: { "cases": [ { "name", "input": {...}, "witness": ["1", ...] } ] }
// Deterministic: fixed keys, deposits, salts and request.

import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { buildProtocol, Tree, creditInput, requestBinding } from "../../tests/reference/protocol.mjs";

const [wasm, out] = process.argv.slice(2);
if (!wasm || !out) {
    console.error("usage: make_inputs.mjs WASM OUT.json");
    process.exit(2);
}

const p = await buildProtocol();
const serverPrv = Buffer.alloc(32, 7);
const key = p.serverKey(serverPrv);
const SCOPE = 77n;
const C_MAX = 1000n;

const tree = new Tree(p, 20);
tree.append(p.leaf(5n, 100n));
const alice = { k: 123456789n, deposit: 5000n };
const bob = { k: 987654321987654321987654321n, deposit: 3000n };
alice.index = tree.append(p.leaf(alice.k, alice.deposit));
bob.index = tree.append(p.leaf(bob.k, bob.deposit));

const x = requestBinding("POST", "/v1/chat/completions", Buffer.from('{"q":1}'), Buffer.alloc(16, 1));

// A voucher the server issued for bob's commitment H(k, refundTotalPrev, 2, saltPrev),
// the state that allows his ticket 2.
const refundTotalPrev = 700n;
const saltPrev = 4242n;
const voucher = {
    ...p.signVoucher(serverPrv, SCOPE, p.commitment(bob.k, refundTotalPrev, 2n, saltPrev), 250n),
    refundTotalPrev,
    saltPrev,
};

const cases = [
    {
        name: "genesis",
        input: creditInput(p, {
            k: alice.k, deposit: alice.deposit, tree, leafIndex: alice.index, scope: SCOPE,
            cMax: C_MAX, key, ticket: 0n, x, voucher: null, saltNew: 99n,
        }),
    },
    {
        name: "voucher",
        input: creditInput(p, {
            k: bob.k, deposit: bob.deposit, tree, leafIndex: bob.index, scope: SCOPE,
            cMax: C_MAX, key, ticket: 2n, x, voucher, saltNew: 31337n,
        }),
    },
];

const buildWitnessCalculator = createRequire(import.meta.url)(
    path.resolve(path.dirname(wasm), "witness_calculator.js"));
const calculator = await buildWitnessCalculator(readFileSync(wasm));
for (const c of cases) {
    const w = await calculator.calculateWitness(c.input, true);
    c.witness = w.map((v) => v.toString());
}
writeFileSync(out, JSON.stringify({ cases }));
