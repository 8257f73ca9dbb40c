// Proving time of the withdrawal statement against the credit statement,
// both with snarkjs.groth16.fullProve (witness included), alternating in one
// run so that the machine's noise hits both alike. The withdrawal is what
// `zkcredit withdraw` proves (client/tools/withdraw_prove.mjs); the credit
// statement is the per-request one, for scale.
//
//   node bench/withdraw_prove_bench.mjs BUILD [ROUNDS]

import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { buildProtocol, Tree, creditInput, withdrawInput } from "../tests/reference/protocol.mjs";

const build = path.resolve(process.argv[2] ?? "build");
const rounds = Number(process.argv[3] ?? 5);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const circuits = {
    withdraw: [path.join(build, "circuits/withdraw_main_js/withdraw_main.wasm"),
               path.join(root, "circuits/keys/withdraw.zkey")],
    credit: [path.join(build, "circuits/credit_main_js/credit_main.wasm"),
             path.join(root, "circuits/keys/credit.zkey")],
};

const p = await buildProtocol();
const serverPrv = Buffer.alloc(32, 7);
const key = p.serverKey(serverPrv);
const scope = 77n;
const user = { k: 123456789n, deposit: 5000n };
const saltPrev = 4242n;
const tickets = 5n;
const voucher = { ...p.signVoucher(serverPrv, scope, p.commitment(user.k, 700n, tickets, saltPrev), 300n),
                  refundTotalPrev: 700n, saltPrev };
const tree = new Tree(p, 20);
const leafIndex = tree.append(p.leaf(user.k, user.deposit));
const inputs = {
    withdraw: withdrawInput(p, { k: user.k, scope, key, tickets, x: 99n, voucher }),
    credit: creditInput(p, { k: user.k, deposit: user.deposit, tree, leafIndex, scope, cMax: 1000n,
                             key, ticket: tickets, x: 99n, voucher, saltNew: 5n }),
};

const times = { withdraw: [], credit: [] };
for (const name of Object.keys(times)) {
    await snarkjs.groth16.fullProve(inputs[name], ...circuits[name]);  // warm-up
}
for (let i = 0; i < rounds; i++) {
    for (const name of Object.keys(times)) {
        const start = performance.now();
        await snarkjs.groth16.fullProve(inputs[name], ...circuits[name]);
        times[name].push(performance.now() - start);
    }
}
const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
const w = median(times.withdraw);
const c = median(times.credit);
console.log(`withdrawal proof (snarkjs fullProve): ${w.toFixed(0)} ms median of ${rounds}`);
console.log(`credit proof (snarkjs fullProve):     ${c.toFixed(0)} ms median of ${rounds}`);
console.log(`withdrawal / credit: ${(w / c).toFixed(2)}`);
process.exit(0);
