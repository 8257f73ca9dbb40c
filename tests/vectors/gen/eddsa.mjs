// Generates tests/vectors/eddsa/eddsa.json (EdDSA-Poseidon over Baby Jubjub, as signed
// by circomlibjs and checked by circomlib's EdDSAPoseidonVerifier) and
// tests/vectors/eddsa/babyjub.json (curve arithmetic, packing, and points outside the
// prime-order subgroup).
//
// Conventions, all circomlibjs's: the private key is 32 raw bytes, hashed with
// BLAKE-512 (the SHA-3 finalist, not BLAKE2) and pruned; the public key is
// A = [s >> 3] Base8; a signature is (R8, S) with S < subOrder; the packed point is the
// 32-byte little-endian y with the top bit set iff x > (q - 1) / 2; the packed signature
// is packed R8 || S as 32 bytes little-endian.

import { buildBabyjub, buildEddsa } from "circomlibjs";
import { R as Q } from "./lib/bn254.mjs";
import { Drbg } from "./lib/drbg.mjs";
import { write_json } from "./lib/io.mjs";

const eddsa = await buildEddsa();
const bj = await buildBabyjub();
const F = bj.F;
const rng = new Drbg("zkcredit/vectors/eddsa/v1");

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const pt_out = (p) => [String(F.toObject(p[0])), String(F.toObject(p[1]))];
const pt_in = ([x, y]) => [F.e(BigInt(x)), F.e(BigInt(y))];
const SUB_ORDER = bj.subOrder;
const ORDER = bj.order;

// ---------------------------------------------------------------- eddsa.json

const private_keys = [
    Buffer.alloc(32, 0),
    Buffer.alloc(32, 0xff),
    Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex"),
];
while (private_keys.length < 30) private_keys.push(rng.bytes(32));

const edge_messages = [
    0n,
    1n,
    2n,
    Q - 1n,
    Q - 2n,
    1n << 128n,
    (1n << 253n) - 1n,
    SUB_ORDER,
    SUB_ORDER - 1n,
];

const sig_cases = [];
for (const [i, prv] of private_keys.entries()) {
    const message = i < edge_messages.length ? edge_messages[i] : rng.below(Q);
    const pub = eddsa.prv2pub(prv);
    const sig = eddsa.signPoseidon(prv, F.e(message));
    if (!eddsa.verifyPoseidon(F.e(message), sig, pub))
        throw new Error("circomlibjs signature does not verify");
    if (BigInt(sig.S) >= SUB_ORDER) throw new Error("S is not reduced");
    const packed_sig = eddsa.packSignature(sig);
    const packed_pub = bj.packPoint(pub);
    // Packing must round-trip, or the packed fields below would be meaningless.
    const back = eddsa.unpackSignature(Buffer.from(packed_sig));
    if (
        !F.eq(back.R8[0], sig.R8[0]) ||
        !F.eq(back.R8[1], sig.R8[1]) ||
        BigInt(back.S) !== BigInt(sig.S)
    ) {
        throw new Error("signature packing does not round-trip");
    }
    const pub_back = bj.unpackPoint(Buffer.from(packed_pub));
    if (!F.eq(pub_back[0], pub[0]) || !F.eq(pub_back[1], pub[1]))
        throw new Error("point packing does not round-trip");
    sig_cases.push({
        private_key_hex: hex(prv),
        public_key: pt_out(pub),
        message: String(message),
        signature: { R8: pt_out(sig.R8), S: String(sig.S) },
        packed_signature_hex: hex(packed_sig),
        packed_public_key_hex: hex(packed_pub),
    });
}
write_json("eddsa/eddsa.json", {
    scheme: "EdDSA-Poseidon on Baby Jubjub (circomlibjs signPoseidon)",
    cases: sig_cases,
});

// ---------------------------------------------------------------- babyjub.json

const IDENTITY = [F.e(0n), F.e(1n)];
const eq = (a, b) => F.eq(a[0], b[0]) && F.eq(a[1], b[1]);
const mul = (p, k) => bj.mulPointEscalar(p, k);
const add = (p, q) => bj.addPoint(p, q);

// The order of a point whose order divides 8 * subOrder, found by trial over the
// divisors that matter here.
function point_order(p) {
    for (const d of [1n, 2n, 4n, 8n, SUB_ORDER, 2n * SUB_ORDER, 4n * SUB_ORDER, 8n * SUB_ORDER]) {
        if (eq(mul(p, d), IDENTITY)) return d;
    }
    throw new Error("point order not found");
}

// A point on the curve from a y coordinate: x^2 = (1 - y^2) / (a - d*y^2).
function point_from_y(y) {
    const y2 = F.square(y);
    const x2 = F.div(F.sub(F.one, y2), F.sub(bj.A, F.mul(bj.D, y2)));
    // The wasm field's sqrt never returns on a non-square, so ask first.
    if (!F.isSquare(x2)) return null;
    const x = F.sqrt(x2);
    if (!F.eq(F.square(x), x2)) throw new Error("sqrt is broken");
    return [x, y];
}

function random_point() {
    for (;;) {
        const p = point_from_y(F.e(rng.below(Q)));
        if (p !== null) return p;
    }
}

// Low-order points: [subOrder] of a random full-order point has order 8, and its
// multiples give the whole torsion subgroup {order 1, 2, 4, 8}.
let torsion8;
for (;;) {
    const t = mul(random_point(), SUB_ORDER);
    if (point_order(t) === 8n) {
        torsion8 = t;
        break;
    }
}
const low_order = [];
for (let k = 1n; k < 8n; k++) {
    const p = mul(torsion8, k);
    low_order.push({ point: pt_out(p), order: String(point_order(p)) });
}

const base8 = bj.Base8;
const random_scalars = Array.from({ length: 8 }, () => rng.below(SUB_ORDER));
const scalar_muls = [
    0n,
    1n,
    2n,
    3n,
    8n,
    SUB_ORDER - 1n,
    SUB_ORDER,
    SUB_ORDER + 1n,
    ORDER,
    (1n << 253n) - 1n,
    ...random_scalars,
].map((k) => ({ scalar: String(k), point: pt_out(mul(base8, k)) }));

const additions = [];
const add_case = (p, q) => additions.push({ p: pt_out(p), q: pt_out(q), sum: pt_out(add(p, q)) });
add_case(base8, base8);
add_case(base8, IDENTITY);
add_case(IDENTITY, IDENTITY);
add_case(base8, mul(base8, SUB_ORDER - 1n));
for (let i = 0; i < 6; i++)
    add_case(mul(base8, rng.below(SUB_ORDER)), mul(base8, rng.below(SUB_ORDER)));
add_case(mul(base8, 5n), torsion8);
add_case(random_point(), random_point());

const not_in_subgroup = [];
const outside = (what, p) => {
    if (!bj.inCurve(p) || bj.inSubgroup(p))
        throw new Error(`${what} is not on the curve outside the subgroup`);
    not_in_subgroup.push({ what, point: pt_out(p), packed_hex: hex(bj.packPoint(p)) });
};
for (const { point, order } of low_order) outside(`order-${order} point`, pt_in(point));
outside("Base8 + order-8 point", add(base8, torsion8));
outside("Base8 + order-2 point (0, -1)", add(base8, [F.e(0n), F.neg(F.one)]));
outside("[12345] Base8 + order-4 point", add(mul(base8, 12345n), mul(torsion8, 2n)));
outside(
    "random curve point of full order 8 * subOrder",
    (() => {
        for (;;) {
            const p = random_point();
            if (point_order(p) === 8n * SUB_ORDER) return p;
        }
    })(),
);
outside("Generator (circomlib's order-8*subOrder generator; Base8 = [8] Generator)", bj.Generator);
if (!eq(mul(bj.Generator, 8n), base8)) throw new Error("Base8 != [8] Generator");

const in_subgroup = [IDENTITY, base8, mul(base8, 7n), mul(base8, SUB_ORDER - 1n)].map((p) => {
    if (!bj.inSubgroup(p)) throw new Error("expected a subgroup point");
    return { point: pt_out(p), packed_hex: hex(bj.packPoint(p)) };
});

write_json("eddsa/babyjub.json", {
    curve: "Baby Jubjub, twisted Edwards a*x^2 + y^2 = 1 + d*x^2*y^2 over Fr(BN254)",
    a: String(F.toObject(bj.A)),
    d: String(F.toObject(bj.D)),
    order: String(ORDER),
    sub_order: String(SUB_ORDER),
    base8: pt_out(base8),
    generator: pt_out(bj.Generator),
    identity: pt_out(IDENTITY),
    additions,
    scalar_muls,
    low_order_points: low_order,
    not_in_subgroup,
    in_subgroup,
});

console.log(
    `eddsa: ${sig_cases.length} signatures; babyjub: ${additions.length} additions, ` +
        `${scalar_muls.length} scalar muls, ${not_in_subgroup.length} points outside the subgroup`,
);
process.exit(0);
