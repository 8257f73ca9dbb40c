// The withdrawal circuit against honest and cheating inputs, with the real
// circom witness generator (wasm) and snarkjs. An input is refused when the
// witness generator finds a violated constraint.

import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { buildProtocol, withdrawInput, R } from "../../tests/reference/protocol.mjs";
import { assertProofBindsItsPublicInputs, exitWhenDone } from "../../tests/reference/proof_checks.mjs";

const wasm = process.env.ZKC_WITHDRAW_WASM;
const zkey = process.env.ZKC_WITHDRAW_ZKEY;
const vkPath = process.env.ZKC_WITHDRAW_VK;
assert.ok(wasm && existsSync(wasm), "ZKC_WITHDRAW_WASM must name the compiled circuit");

const SCOPE = 77n;
const p = await buildProtocol();
const serverPrv = Buffer.alloc(32, 7);
const otherPrv = Buffer.alloc(32, 9);
const key = p.serverKey(serverPrv);

const alice = { k: 123456789n };
const bob = { k: 987654321n };
// Any field element stands for the contract's binding of the recipient.
const x = 0x1234567890abcdefn;

// The voucher the server signed for the request of ticket tickets - 1: its
// commitment H(k, refundTotalPrev, tickets, saltPrev) allows ticket `tickets`.
function voucherFor(user, tickets, refundTotalPrev, refund, { scope = SCOPE, prv = serverPrv } = {}) {
    const saltPrev = 4242n;
    const c = p.commitment(user.k, refundTotalPrev, tickets, saltPrev);
    return { ...p.signVoucher(prv, scope, c, refund), refundTotalPrev, saltPrev };
}

function input(user, overrides = {}) {
    return withdrawInput(p, { k: user.k, scope: SCOPE, key, tickets: 0n, x, voucher: null, ...overrides });
}

const buildWitnessCalculator = createRequire(import.meta.url)(
    path.resolve(path.dirname(wasm), "witness_calculator.js"));
const calculator = await buildWitnessCalculator(readFileSync(wasm));

const accepted = (inp) => calculator.calculateWitness(inp, true);
const refused = (inp) => assert.rejects(calculator.calculateWitness(inp, true), /Assert Failed|Error in template/);

test("a withdrawal before any request, and one after five", async () => {
    await accepted(input(alice));
    const inp = input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n) });
    assert.equal(inp.refund_total, "1000");
    await accepted(inp);
});

test("the ticket count is the one the voucher's commitment names", async () => {
    const forFive = voucherFor(alice, 5n, 700n, 300n);
    await refused(input(alice, { tickets: 4n, voucher: forFive }));
    await refused(input(alice, { tickets: 6n, voucher: forFive }));
    // genesis claims no ticket used
    await refused(input(alice, { tickets: 3n }));
});

test("the refund total is the voucher's, exactly", async () => {
    const inp = input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n) });
    inp.refund_total = "1001";
    await refused(inp);
    const genesis = input(alice);
    genesis.refund_total = "1";
    await refused(genesis);
});

test("forged, misdirected and transferred vouchers are refused", async () => {
    const good = voucherFor(alice, 5n, 700n, 300n);
    await refused(input(alice, { tickets: 5n, voucher: { ...good, s: good.s + 1n } }));
    await refused(input(alice, { tickets: 5n, voucher: { ...good, refund: 301n } }));
    await refused(input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n, { prv: otherPrv }) }));
    await refused(input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n, { scope: SCOPE + 1n }) }));
    await refused(input(alice, { tickets: 5n, voucher: voucherFor(bob, 5n, 700n, 300n) }));
});

test("another user's identity is refused", async () => {
    const inp = input(alice);
    inp.id = p.identity(bob.k).toString();
    await refused(inp);
});

test("the share and nullifier are of ticket `tickets` for the binding x", async () => {
    for (const field of ["nullifier", "signal_y", "x", "scope"]) {
        const inp = input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n) });
        inp[field] = ((BigInt(inp[field]) + 1n) % R).toString();
        await refused(inp);
    }
    // The share is the one a request with ticket 5 would give at x: two of
    // them reveal k.
    const w = input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, 700n, 300n) });
    const { a } = p.ticket(alice.k, SCOPE, 5n);
    const requestX = 99n;
    const requestY = p.signal(alice.k, a, requestX);
    assert.equal(p.constructor.recoverKey(BigInt(w.x), BigInt(w.signal_y), requestX, requestY), alice.k);
});

test("amounts and tickets that would wrap around the field are refused", async () => {
    await refused(input(alice, { tickets: 5n, voucher: voucherFor(alice, 5n, R - 1000n, 2000n) }));
    await refused(input(alice, { tickets: 1n << 32n, voucher: voucherFor(alice, 1n << 32n, 0n, 0n) }));
});

test("a real proof verifies under the ceremony's key, and only for its public inputs",
    { skip: !(zkey && existsSync(zkey)) && "no zkey" }, async () => {
        const inp = input(alice, { tickets: 3n, voucher: voucherFor(alice, 3n, 100n, 250n) });
        await assertProofBindsItsPublicInputs({ input: inp, wasm, zkey, vkPath, publicOrder:
            ["id", "scope", "key_hash", "tickets", "refund_total", "x", "nullifier", "signal_y"] });
    });

exitWhenDone();
