// Expected values for the wallet tests (client/tests/wallet), computed by
// the reference implementation (tests/reference/protocol.mjs) on
// circomlibjs: trees and paths, request bindings, identities and tickets,
// vouchers as the gateway encodes them, and whole circuit inputs.
//
//   node client/tests/wallet/reference.mjs OUT.json
// Deterministic: every secret, salt and nonce is fixed here.

import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { buildProtocol, Tree, creditInput, requestBinding, fieldToBytesBE, R } from "../../../tests/reference/protocol.mjs";

const out = process.argv[2];
if (!out) {
    console.error("usage: reference.mjs OUT.json");
    process.exit(2);
}

const p = await buildProtocol();
const hex = (v) => fieldToBytesBE(v).toString("hex");
const str = (v) => BigInt(v).toString();
// Deterministic pseudo-random field elements.
const prf = (label) => BigInt("0x" + createHash("sha512").update(label).digest("hex")) % R;

// Trees of several sizes and depths, with paths of occupied and empty slots.
const trees = [];
for (const [depth, count, indices] of [[4, 0, [0, 5]], [4, 1, [0, 1]], [4, 5, [0, 3, 4, 5, 15]],
                                        [20, 3, [0, 1, 2, 3]], [20, 17, [16, 9]]]) {
    const tree = new Tree(p, depth);
    for (let i = 0; i < count; i++) tree.append(prf(`leaf ${depth} ${i}`));
    trees.push({
        depth,
        leaves: tree.leaves.map(hex),
        root: hex(tree.root()),
        paths: indices.map((index) => {
            const { elements, indices: bits } = tree.path(index);
            return { index, elements: elements.map(hex), indices: bits };
        }),
    });
}

const bindings = [
    ["GET", "/", ""],
    ["POST", "/v1/chat/completions?x=%20a&b", '{"model":"demo"}'],
    ["PUT", "/v1/files/" + "x".repeat(300), "z".repeat(70000)],
].map(([method, target, body], i) => {
    const nonce = Buffer.alloc(16, i + 1);
    return { method, target, body, nonce: nonce.toString("hex"),
             x: hex(requestBinding(method, target, Buffer.from(body, "latin1"), nonce)) };
});

const scope = 77n;
const cMax = 1000n;
const serverPrv = Buffer.alloc(32, 7);
const key = p.serverKey(serverPrv);
const keyPacked = Buffer.from(p.babyJub.packPoint(p.eddsa.prv2pub(serverPrv))).toString("hex");

function encodeVoucher(refund, keyHash, sig) {
    const raw = Buffer.alloc(105);
    raw[0] = 1;
    raw.writeBigUInt64BE(BigInt(refund), 1);
    fieldToBytesBE(keyHash).copy(raw, 9);
    Buffer.from(p.eddsa.packSignature(sig)).copy(raw, 41);
    return raw.toString("base64url");
}

function voucherFor(c, refund) {
    const m = p.F.e(p.voucherMessage(scope, c, refund));
    const sig = p.eddsa.signPoseidon(serverPrv, m);
    return {
        b64: encodeVoucher(refund, key.keyHash, sig),
        unpacked: { refund: BigInt(refund), r8x: p.F.toObject(sig.R8[0]),
                    r8y: p.F.toObject(sig.R8[1]), s: sig.S },
    };
}

const identities = [1n, 123456789n, R - 1n, prf("identity")].map((k, i) => {
    const deposit = [1n, 5000n, 2n ** 64n - 1n, 123n][i];
    const ticket = [0n, 7n, 2n ** 32n - 1n, 3n][i];
    const { a, nullifier } = p.ticket(k, scope, ticket);
    const x = prf(`x ${i}`);
    const salt = prf(`salt ${i}`);
    const refundTotal = [0n, 750n, 2n ** 64n - 1n, 42n][i];
    return { k: str(k), deposit: str(deposit), ticket: str(ticket), id: str(p.identity(k)),
             leaf: hex(p.leaf(k, deposit)), nullifier: hex(nullifier), x: str(x),
             signal: str(p.signal(k, a, x)), salt: str(salt), refund_total: str(refundTotal),
             commitment: str(p.commitment(k, refundTotal, ticket, salt)) };
});

// Whole circuit inputs: a tree with three users, a genesis request and one
// that uses a voucher on an earlier commitment.
const tree = new Tree(p, 20);
tree.append(prf("someone"));
const alice = { k: prf("alice"), deposit: 5000n };
alice.index = tree.append(p.leaf(alice.k, alice.deposit));
tree.append(prf("someone else"));
const binding = bindings[1];
const x = BigInt("0x" + binding.x);
const refundTotalPrev = 750n;
const saltPrev = prf("salt prev");
const voucher = voucherFor(p.commitment(alice.k, refundTotalPrev, 3n, saltPrev), 250n);
const inputs = [
    { name: "genesis", ticket: 0n, voucher: null, salt_new: prf("salt new 0") },
    { name: "voucher", ticket: 3n, voucher, salt_new: prf("salt new 3") },
].map((c) => ({
    name: c.name,
    ticket: str(c.ticket),
    salt_new: str(c.salt_new),
    voucher: c.voucher ? { b64: c.voucher.b64, refund_total_prev: str(refundTotalPrev),
                           salt_prev: str(saltPrev) } : null,
    input: creditInput(p, {
        k: alice.k, deposit: alice.deposit, tree, leafIndex: alice.index, scope, cMax, key,
        ticket: c.ticket, x,
        voucher: c.voucher ? { ...c.voucher.unpacked, refundTotalPrev, saltPrev } : null,
        saltNew: c.salt_new,
    }),
}));

// Vouchers as the gateway sends them, for the acceptance checks.
const cNew = prf("c_new");
const vouchers = { scope: str(scope), key_packed: keyPacked, c_new: str(cNew),
                   valid: voucherFor(cNew, 123n).b64, other_c: voucherFor(cNew + 1n, 123n).b64 };

writeFileSync(out, JSON.stringify({
    trees, bindings, identities, vouchers,
    credit: { scope: str(scope), c_max: str(cMax), key_packed: keyPacked, k: str(alice.k),
              deposit: str(alice.deposit), leaves: tree.leaves.map(hex), leaf_index: alice.index,
              x: binding.x, cases: inputs },
}));
