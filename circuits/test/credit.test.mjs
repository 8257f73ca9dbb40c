// The credit circuit against honest and cheating inputs, with the real
// circom witness generator (wasm) and snarkjs. An input is refused when the
// witness generator finds a violated constraint.

import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { buildProtocol, Tree, creditInput, requestBinding, R } from "../../tests/reference/protocol.mjs";
import { assertProofBindsItsPublicInputs, exitWhenDone } from "../../tests/reference/proof_checks.mjs";

const wasm = process.env.ZKC_CIRCUIT_WASM;
const zkey = process.env.ZKC_CIRCUIT_ZKEY;
const vkPath = process.env.ZKC_CIRCUIT_VK;
assert.ok(wasm && existsSync(wasm), "ZKC_CIRCUIT_WASM must name the compiled circuit");

const DEPTH = 20;
const SCOPE = 77n;
const C_MAX = 1000n;

const p = await buildProtocol();
const serverPrv = Buffer.alloc(32, 7);
const otherPrv = Buffer.alloc(32, 9);
const key = p.serverKey(serverPrv);
const otherKey = p.serverKey(otherPrv);

const alice = { k: 123456789n, deposit: 5000n };
const bob = { k: 987654321n, deposit: 3000n };
const tree = new Tree(p, DEPTH);
tree.append(p.leaf(5n, 100n));
alice.index = tree.append(p.leaf(alice.k, alice.deposit));
bob.index = tree.append(p.leaf(bob.k, bob.deposit));

const x = requestBinding("POST", "/v1/chat/completions", Buffer.from('{"q":1}'), Buffer.alloc(16, 1));

// A voucher the server issued for `user`'s commitment H(k, refundTotalPrev,
// ticket, saltPrev): the state that allows ticket `ticket`.
function voucherFor(user, ticket, refundTotalPrev, refund, { scope = SCOPE, prv = serverPrv } = {}) {
    const saltPrev = 4242n;
    const c = p.commitment(user.k, refundTotalPrev, ticket, saltPrev);
    return { ...p.signVoucher(prv, scope, c, refund), refundTotalPrev, saltPrev };
}

function input(user, overrides = {}) {
    return creditInput(p, {
        k: user.k, deposit: user.deposit, tree, leafIndex: user.index,
        scope: SCOPE, cMax: C_MAX, key, ticket: 0n, x, voucher: null, saltNew: 99n,
        ...overrides,
    });
}

// One wasm instance for all cases: the generator built beside the wasm.
const buildWitnessCalculator = createRequire(import.meta.url)(
    path.resolve(path.dirname(wasm), "witness_calculator.js"));
const calculator = await buildWitnessCalculator(readFileSync(wasm));

async function witness(inp) {
    return calculator.calculateWitness(inp, true);
}

async function accepted(inp) {
    await witness(inp);
}

async function refused(inp) {
    await assert.rejects(witness(inp), /Assert Failed|Error in template/);
}

test("requests within the deposit are accepted", async () => {
    await accepted(input(alice));
    // 5 * 1000 = 5000 = D
    await accepted(input(alice, { ticket: 4n, voucher: voucherFor(alice, 4n, 0n, 0n) }));
});

test("overspending by one unit is refused", async () => {
    await refused(input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, 0n, 0n) }));  // 6000 > 5000
    await refused(input({ ...alice, deposit: 4999n }, { ticket: 4n, voucher: voucherFor(alice, 4n, 0n, 0n) }));
});

test("a chain has no skipped ticket: genesis is ticket 0, a voucher allows the ticket it names", async () => {
    await refused(input(alice, { ticket: 1n }));
    await refused(input(alice, { ticket: 4n }));
    const forFive = voucherFor(alice, 5n, 700n, 300n);
    await accepted(input(alice, { ticket: 5n, voucher: forFive }));
    await refused(input(alice, { ticket: 4n, voucher: forFive }));
    await refused(input(alice, { ticket: 6n, voucher: forFive }));
});

test("the new commitment names the next ticket", async () => {
    const inp = input(alice);
    inp.c_new = p.commitment(alice.k, 0n, 0n, 99n).toString();
    await refused(inp);
    inp.c_new = p.commitment(alice.k, 0n, 1n, 99n).toString();
    await accepted(inp);
});

test("a voucher's refunds extend what can be spent, exactly", async () => {
    await accepted(input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, 700n, 300n) }));
    await refused(input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, 700n, 299n) }));
});

test("a leaf that is not in the tree is refused", async () => {
    const inp = input(alice);
    inp.path_elements[3] = (BigInt(inp.path_elements[3]) + 1n).toString();
    await refused(inp);
    const other = input(alice);
    other.path_indices[0] = "2";
    await refused(other);
});

test("claiming a deposit other than the registered one is refused", async () => {
    await refused(input({ ...alice, deposit: 6000n }));
});

test("forged, misdirected and transferred vouchers are refused", async () => {
    const good = voucherFor(alice, 5n, 700n, 300n);
    await refused(input(alice, { ticket: 5n, voucher: { ...good, s: good.s + 1n } }));
    await refused(input(alice, { ticket: 5n, voucher: { ...good, refund: 301n } }));
    await refused(input(alice, { ticket: 5n, voucher: { ...good, refundTotalPrev: 701n } }));
    // signed by a key other than the one whose hash is public
    await refused(input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, 700n, 300n, { prv: otherPrv }) }));
    // signed for another deployment
    await refused(input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, 700n, 300n, { scope: SCOPE + 1n }) }));
    // Bob's voucher used by Alice: its commitment does not open with her key
    await refused(input(alice, { ticket: 5n, voucher: voucherFor(bob, 5n, 700n, 300n) }));
});

test("the public key hash must name the voucher's key even at genesis", async () => {
    const inp = input(alice);
    inp.key_hash = otherKey.keyHash.toString();
    await refused(inp);
});

test("genesis cannot carry refunds", async () => {
    const inp = input(alice);
    inp.refund = "1000";
    await refused(inp);
    const flag = input(alice);
    flag.genesis = "2";
    await refused(flag);
});

test("wrong nullifier, signal or state commitment is refused", async () => {
    for (const field of ["nullifier", "signal_y", "c_new", "x", "scope"]) {
        const inp = input(alice);
        inp[field] = ((BigInt(inp[field]) + 1n) % R).toString();
        await refused(inp);
    }
});

test("amounts that would wrap around the field are refused", async () => {
    // a "negative" previous total, r - 1000, would cancel a charge
    const inp = input(alice, { ticket: 5n, voucher: voucherFor(alice, 5n, R - 1000n, 2000n) });
    await refused(inp);
    await refused(input({ ...alice, deposit: 1n << 64n }));
    await refused(input(alice, { ticket: 1n << 32n, voucher: voucherFor(alice, 1n << 32n, 0n, 0n) }));
    await refused(input(alice, { cMax: 1n << 64n }));
});

test("a real proof verifies under the ceremony's key, and only for its public inputs",
    { skip: !(zkey && existsSync(zkey)) && "no zkey" }, async () => {
        const inp = input(alice, { ticket: 1n, voucher: voucherFor(alice, 1n, 0n, 250n), saltNew: BigInt("0x" + randomBytes(16).toString("hex")) });
        await assertProofBindsItsPublicInputs({ input: inp, wasm, zkey, vkPath, publicOrder:
            ["root", "scope", "c_max", "key_hash", "x", "nullifier", "signal_y", "c_new"] });
    });

exitWhenDone();
