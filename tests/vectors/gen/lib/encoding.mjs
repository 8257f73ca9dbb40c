// The normative encodings of prompts/encoding.md (compact binary and snarkjs JSON) and
// the derivation of the expected libverify Status for a Groth16 verification, in the
// normative order of checks. Nothing here is taken from the C++ code: this is the
// independent implementation the C++ is compared against.

import { P, R, G1, G2, INF, f2_sgn0 } from "./bn254.mjs";

// ---------------------------------------------------------------- bytes and integers

export const to_hex = (bytes) => Buffer.from(bytes).toString("hex");
export const from_hex = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));

export function int_to_be32(v) {
    if (v < 0n || v >= 1n << 256n) throw new Error("does not fit in 32 bytes");
    return Uint8Array.from(Buffer.from(v.toString(16).padStart(64, "0"), "hex"));
}

export const be_to_int = (bytes) =>
    bytes.length === 0 ? 0n : BigInt("0x" + Buffer.from(bytes).toString("hex"));

// JSON numbers: decimal digits only, no sign, no leading zero except "0" itself.
const DECIMAL = /^(0|[1-9][0-9]*)$/;
export const parse_decimal = (s) => (typeof s === "string" && DECIMAL.test(s) ? BigInt(s) : null);

// ---------------------------------------------------------------- compact form

const FLAG_SIGN = 0x80;
const FLAG_INF = 0x40;

export function compress_g1(pt) {
    if (pt.inf) {
        const out = new Uint8Array(32);
        out[0] = FLAG_INF;
        return out;
    }
    const out = int_to_be32(pt.x);
    if (pt.y & 1n) out[0] |= FLAG_SIGN;
    return out;
}

export function compress_g2(pt) {
    const out = new Uint8Array(64);
    if (pt.inf) {
        out[0] = FLAG_INF;
        return out;
    }
    out.set(int_to_be32(pt.x[1]), 0);
    out.set(int_to_be32(pt.x[0]), 32);
    if (f2_sgn0(pt.y)) out[0] |= FLAG_SIGN;
    return out;
}

export const compress_proof = ({ A, B, C }) =>
    to_hex(Buffer.concat([compress_g1(A), compress_g2(B), compress_g1(C)]));

// Stage 1 of decoding (encoding only): returns null for bad_encoding, INF, or
// {x, sign} with x canonical. The curve equation is not looked at yet, so that the
// caller can apply identity / on-curve checks in the normative order.
function parse_flags(bytes) {
    const sign = (bytes[0] & FLAG_SIGN) !== 0;
    const infinity = (bytes[0] & FLAG_INF) !== 0;
    const body = Uint8Array.from(bytes);
    body[0] &= 0x3f;
    return { sign, infinity, body };
}

export function parse_g1_compact(bytes) {
    const { sign, infinity, body } = parse_flags(bytes);
    const x = be_to_int(body);
    if (infinity) return !sign && x === 0n ? INF : null;
    if (x >= P) return null;
    return { x, sign };
}

export function parse_g2_compact(bytes) {
    const { sign, infinity, body } = parse_flags(bytes);
    const c1 = be_to_int(body.subarray(0, 32));
    const c0 = be_to_int(body.subarray(32, 64));
    if (infinity) return !sign && c1 === 0n && c0 === 0n ? INF : null;
    if (c1 >= P || c0 >= P) return null;
    return { x: [c0, c1], sign };
}

// Stage 2: recover y from x and the sign bit; null when x is not on the curve.
function lift(curve, is_odd, parsed) {
    const y = curve.y_for_x(parsed.x);
    if (y === null) return null;
    return { x: parsed.x, y: is_odd(y) === parsed.sign ? y : curve.F.neg(y) };
}

export const lift_g1 = (parsed) => lift(G1, (y) => (y & 1n) === 1n, parsed);
export const lift_g2 = (parsed) => lift(G2, f2_sgn0, parsed);

// ---------------------------------------------------------------- snarkjs JSON form

const is_str_array = (a, n) =>
    Array.isArray(a) && a.length === n && a.every((s) => typeof s === "string");

// Returns null for bad_encoding, INF, or an affine {x, y} that may be off the curve.
export function parse_g1_json(a) {
    if (!is_str_array(a, 3)) return null;
    const [x, y, z] = a.map(parse_decimal);
    if (x === null || y === null || z === null || x >= P || y >= P) return null;
    if (z === 0n) return x === 0n && y === 1n ? INF : null;
    return z === 1n ? { x, y } : null;
}

export function parse_g2_json(a) {
    if (!Array.isArray(a) || a.length !== 3 || !a.every((c) => is_str_array(c, 2))) return null;
    const [x, y, z] = a.map((c) => c.map(parse_decimal));
    const all = [...x, ...y, ...z];
    if (all.some((v) => v === null) || [...x, ...y].some((v) => v >= P)) return null;
    const is = (c, v0, v1) => c[0] === v0 && c[1] === v1;
    if (is(z, 0n, 0n)) return is(x, 0n, 0n) && is(y, 1n, 0n) ? INF : null;
    return is(z, 1n, 0n) ? { x, y } : null;
}

export function g1_to_json(pt) {
    return pt.inf ? ["0", "1", "0"] : [pt.x.toString(), pt.y.toString(), "1"];
}

export function g2_to_json(pt) {
    if (pt.inf)
        return [
            ["0", "0"],
            ["1", "0"],
            ["0", "0"],
        ];
    return [pt.x.map(String), pt.y.map(String), ["1", "0"]];
}

// A valid snarkjs proof object as affine points (throws if it is not one).
export function proof_from_json(proof) {
    const A = parse_g1_json(proof.pi_a);
    const B = parse_g2_json(proof.pi_b);
    const C = parse_g1_json(proof.pi_c);
    if (!A || !B || !C || A.inf || B.inf || C.inf) throw new Error("not a regular proof");
    return { A, B, C };
}

// ---------------------------------------------------------------- expected Status

// The tail shared by both forms, once A, B, C are decoded (or known bad):
// identity -> on curve -> subgroup -> public input range -> pairing.
async function after_encoding(pairing_ok, vk, pts, inputs) {
    if (pts.some((p) => p.inf)) return "identity_point";
    const [A, B, C] = pts.map((p) => p.lifted);
    if (A === null || B === null || C === null) return "not_on_curve";
    if (!G1.on_curve(A) || !G2.on_curve(B) || !G1.on_curve(C)) return "not_on_curve";
    // G1 has cofactor 1, so only B needs a subgroup check.
    if (!G2.in_subgroup(B)) return "not_in_subgroup";
    if (inputs.some((v) => v >= R)) return "input_out_of_range";
    return (await pairing_ok(vk, { A, B, C }, inputs)) ? "ok" : "invalid_proof";
}

export async function expected_json(pairing_ok, vk, proof, publics) {
    if (!Array.isArray(publics) || publics.length !== vk.nPublic) return "wrong_input_count";
    if (proof === null || typeof proof !== "object") return "bad_encoding";
    const A = parse_g1_json(proof.pi_a);
    const B = parse_g2_json(proof.pi_b);
    const C = parse_g1_json(proof.pi_c);
    const inputs = publics.map(parse_decimal);
    if (!A || !B || !C || inputs.some((v) => v === null)) return "bad_encoding";
    const pts = [A, B, C].map((p) => (p.inf ? p : { lifted: p }));
    return after_encoding(pairing_ok, vk, pts, inputs);
}

export async function expected_compact(pairing_ok, vk, hex, publics) {
    const bytes = from_hex(hex);
    if (bytes.length !== 128) return "bad_length";
    if (!Array.isArray(publics) || publics.length !== vk.nPublic) return "wrong_input_count";
    const A = parse_g1_compact(bytes.subarray(0, 32));
    const B = parse_g2_compact(bytes.subarray(32, 96));
    const C = parse_g1_compact(bytes.subarray(96, 128));
    const inputs = publics.map(parse_decimal);
    if (!A || !B || !C || inputs.some((v) => v === null)) return "bad_encoding";
    const lift_or_inf = (p, lift_fn) => (p.inf ? p : { lifted: lift_fn(p) });
    const pts = [lift_or_inf(A, lift_g1), lift_or_inf(B, lift_g2), lift_or_inf(C, lift_g1)];
    return after_encoding(pairing_ok, vk, pts, inputs);
}
