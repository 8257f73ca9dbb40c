// Builds real zkcredit credentials with the reference implementation and
// snarkjs (the independent prover), for the gateway tests and benchmarks.
//
// stdin:  { wasm, zkey, depth, scope, c_max, signing_key_hex,
//           users: [{ k, deposit }],
//           requests: [{ user, ticket, method, target, body_b64,
//                        nonce_hex?, salt_new?, scope?, signing_key_hex?,
//                        voucher?: { refund_b64, refund_total_prev, salt_prev } }] }
// A request's scope and signing key override the spec's, to make
// credentials for another deployment. A request for ticket i > 0 without a
// voucher builds on one this tool signs with the request's signing key
// (refund 0 on the commitment that allows ticket i): it stands for the
// answers of tickets 0 .. i - 1, so that a test can use any ticket.
// stdout: { root_hex, key_packed_hex, key_hash_hex, leaves_hex,
//           credentials: [{ header, nullifier_hex, x_hex, y_hex,
//                           c_new, salt_new, refund_total }] }

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { buildProtocol, Tree, creditInput, requestBinding, fieldToBytesBE, R } from "./protocol.mjs";
import { proof_from_json, compress_proof } from "../vectors/gen/lib/encoding.mjs";

const hex = (v) => fieldToBytesBE(v).toString("hex");
const randomField = () => BigInt("0x" + randomBytes(32).toString("hex")) % R;

function encodeCredential({ root, keyHash, nullifier, signal, cNew, nonce, proof }) {
    const raw = Buffer.concat([
        Buffer.from([1]),
        fieldToBytesBE(root), fieldToBytesBE(keyHash), fieldToBytesBE(nullifier),
        fieldToBytesBE(signal), fieldToBytesBE(cNew), nonce, proof,
    ]);
    return raw.toString("base64url");
}

// The voucher a gateway returned (docs/protocol.md §9), unpacked for the circuit.
function decodeVoucher(p, b64) {
    const raw = Buffer.from(b64, "base64url");
    if (raw.length !== 105 || raw[0] !== 1) throw new Error("not a version 1 refund");
    const refund = raw.readBigUInt64BE(1);
    const sig = p.eddsa.unpackSignature(Uint8Array.from(raw.subarray(41, 105)));
    return {
        refund,
        r8x: p.F.toObject(sig.R8[0]),
        r8y: p.F.toObject(sig.R8[1]),
        s: sig.S,
    };
}

const spec = JSON.parse(readFileSync(0, "utf8"));
const p = await buildProtocol();
const signingKey = Buffer.from(spec.signing_key_hex, "hex");
const key = p.serverKey(signingKey);
const tree = new Tree(p, spec.depth ?? 20);
const users = spec.users.map((u) => {
    const k = BigInt(u.k);
    const deposit = BigInt(u.deposit);
    return { k, deposit, index: tree.append(p.leaf(k, deposit)) };
});

const credentials = [];
for (const req of spec.requests) {
    const user = users[req.user];
    const nonce = req.nonce_hex ? Buffer.from(req.nonce_hex, "hex") : randomBytes(16);
    const body = Buffer.from(req.body_b64 ?? "", "base64");
    const x = requestBinding(req.method, req.target, body, nonce);
    const saltNew = req.salt_new ? BigInt(req.salt_new) : randomField();
    const requestSigningKey = req.signing_key_hex ? Buffer.from(req.signing_key_hex, "hex") : signingKey;
    const requestKey = p.serverKey(requestSigningKey);
    const scope = BigInt(req.scope ?? spec.scope);
    const ticket = BigInt(req.ticket);
    let voucher = null;
    if (req.voucher) {
        voucher = {
            ...decodeVoucher(p, req.voucher.refund_b64),
            refundTotalPrev: BigInt(req.voucher.refund_total_prev),
            saltPrev: BigInt(req.voucher.salt_prev),
        };
    } else if (ticket > 0n) {
        const saltPrev = randomField();
        const c = p.commitment(user.k, 0n, ticket, saltPrev);
        voucher = { ...p.signVoucher(requestSigningKey, scope, c, 0n), refundTotalPrev: 0n, saltPrev };
    }
    const input = creditInput(p, {
        k: user.k, deposit: user.deposit, tree, leafIndex: user.index,
        scope, cMax: BigInt(spec.c_max), key: requestKey, ticket, x, voucher, saltNew,
    });
    const { proof } = await snarkjs.groth16.fullProve(input, spec.wasm, spec.zkey);
    const compact = Buffer.from(compress_proof(proof_from_json(proof)), "hex");
    credentials.push({
        header: encodeCredential({
            root: BigInt(input.root), keyHash: requestKey.keyHash, nullifier: BigInt(input.nullifier),
            signal: BigInt(input.signal_y), cNew: BigInt(input.c_new), nonce, proof: compact,
        }),
        nullifier_hex: hex(input.nullifier),
        x_hex: hex(x),
        y_hex: hex(input.signal_y),
        c_new: input.c_new,
        salt_new: saltNew.toString(),
        refund_total: (BigInt(input.refund_total_prev) + BigInt(input.refund)).toString(),
    });
}

process.stdout.write(JSON.stringify({
    root_hex: hex(tree.root()),
    key_packed_hex: Buffer.from(p.babyJub.packPoint(p.eddsa.prv2pub(signingKey))).toString("hex"),
    key_hash_hex: hex(key.keyHash),
    leaves_hex: tree.leaves.map(hex),
    credentials,
}) + "\n");
process.exit(0);
