// Generates tests/vectors/groth16/<circuit>/{cases.json,batch.json} from the circuits
// built by build_circuits.sh (.cache/build).
//
// Proofs come from snarkjs.groth16.fullProve (randomized by snarkjs). Every case is then
// a valid proof or a single, named mutation of one. Its expected Status, for the JSON
// and the compact form, is *derived* by lib/encoding.mjs in the normative order of
// checks; `intent` below only states what the mutation was designed to produce, and the
// generator aborts if the derivation disagrees, so a wrong vector cannot be written
// silently. "snarkjs" records what snarkjs.groth16.verify returned for the JSON form.
//
// Usage: node tests/vectors/gen/groth16.mjs [circuit ...]

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as snarkjs from "snarkjs";

import { P, R, G1, G2, G1_GEN, G2_GEN, INF, f2_sgn0 } from "./lib/bn254.mjs";
import {
    compress_proof,
    compress_g1,
    compress_g2,
    expected_compact,
    expected_json,
    from_hex,
    g1_to_json,
    g2_to_json,
    int_to_be32,
    proof_from_json,
} from "./lib/encoding.mjs";
import { make_pairing_checker } from "./lib/pairing.mjs";
import { Drbg } from "./lib/drbg.mjs";
import { REPO_ROOT, VECTORS_DIR, write_json } from "./lib/io.mjs";

const BUILD = resolve(REPO_ROOT, ".cache/build");

// Witness inputs per circuit, drawn from a seeded stream. `edge` inputs produce valid
// proofs whose public signals sit at the boundaries 0 and r - 1.
const CIRCUITS = {
    multiplier: {
        batch: 16,
        input: (rng) => ({ a: String(rng.below(R - 2n) + 2n), b: String(rng.below(R - 2n) + 2n) }),
        // c = a * b: a = 0 gives c = 0; a = 2, b = (r - 1) / 2 gives c = r - 1.
        edge: [
            { a: "0", b: "5" },
            { a: "2", b: String((R - 1n) / 2n) },
        ],
    },
    poseidon_preimage: {
        batch: 16,
        input: (rng) => ({
            secret: String(rng.below(R)),
            nullifier: String(rng.below(R)),
            context: String(rng.below(R)),
        }),
        edge: [
            { secret: "1", nullifier: "2", context: "0" },
            { secret: "3", nullifier: "4", context: String(R - 1n) },
        ],
    },
    eight_inputs: {
        batch: 256,
        input: (rng) => ({
            secret: String(rng.below(R)),
            x: Array.from({ length: 7 }, () => String(rng.below(R))),
        }),
        edge: [
            { secret: "7", x: ["0", "0", "0", "0", "0", "0", "0"] },
            { secret: "7", x: Array(7).fill(String(R - 1n)) },
        ],
    },
};

const N_VALID_CASES = 3;

const clone = (v) => JSON.parse(JSON.stringify(v));

const FLAG_SIGN = 0x80;
const FLAG_INF = 0x40;

// Raw compact encodings that may be invalid (used to build malformed compact proofs).
function g1_raw(x, flags) {
    const out = int_to_be32(x);
    out[0] |= flags;
    return out;
}
function g2_raw([c0, c1], flags) {
    const out = Buffer.concat([int_to_be32(c1), int_to_be32(c0)]);
    out[0] |= flags;
    return out;
}
const g1_sign = (pt) => ((pt.y & 1n) === 1n ? FLAG_SIGN : 0);
const g2_sign = (pt) => (f2_sgn0(pt.y) ? FLAG_SIGN : 0);

// Replace one 32/64-byte slot of a compact proof: 0 = A, 1 = B, 2 = C.
function compact_with(base_hex, slot, bytes) {
    const buf = Buffer.from(from_hex(base_hex));
    const offset = [0, 32, 96][slot];
    Buffer.from(bytes).copy(buf, offset);
    return buf.toString("hex");
}

// A point on the twist E'(Fq2) outside the order-r subgroup: random x until x^3 + b'
// is a square, y = its root, and confirm [r]P != O. E'(Fq2) has order r * h with a
// ~254-bit cofactor h, so almost every such point is outside the subgroup.
function twist_point_outside_subgroup(rng) {
    for (;;) {
        const x = [rng.below(P), rng.below(P)];
        const y = G2.y_for_x(x);
        if (y === null) continue;
        const pt = { x, y };
        if (!G2.on_curve(pt)) throw new Error("sqrt is broken");
        if (!G2.in_subgroup(pt)) return pt;
    }
}

function g1_x_off_curve(rng) {
    for (;;) {
        const x = rng.below(P);
        if (G1.y_for_x(x) === null) return x;
    }
}
function g2_x_off_curve(rng) {
    for (;;) {
        const x = [rng.below(P), rng.below(P)];
        if (G2.y_for_x(x) === null) return x;
    }
}

async function snarkjs_verdict(vk, publics, proof) {
    if (proof === null) return null;
    try {
        return await snarkjs.groth16.verify(vk, publics, proof);
    } catch {
        return null;
    }
}

async function generate(circuit_name, pairing_ok) {
    const spec = CIRCUITS[circuit_name];
    const rng = new Drbg(`zkcredit/vectors/groth16/${circuit_name}/v1`);
    const vk = JSON.parse(
        readFileSync(resolve(VECTORS_DIR, `groth16/${circuit_name}/verification_key.json`)),
    );
    const wasm = {
        type: "mem",
        data: readFileSync(resolve(BUILD, `${circuit_name}_js/${circuit_name}.wasm`)),
    };
    const zkey = { type: "mem", data: readFileSync(resolve(BUILD, `${circuit_name}.zkey`)) };
    const prove = async (input) => {
        const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey);
        return { proof, public: publicSignals };
    };

    const t0 = Date.now();
    const batch = [];
    for (let i = 0; i < spec.batch; i++) batch.push(await prove(spec.input(rng)));
    const edge = [];
    for (const input of spec.edge) edge.push(await prove(input));
    const prove_seconds = (Date.now() - t0) / 1000;

    // Every proof is checked here before it is used as a base, so that a broken
    // ceremony or a broken compact encoder shows up as an error, not as vectors.
    for (const { proof, public: pub } of [...batch, ...edge]) {
        const hex = compress_proof(proof_from_json(proof));
        if (
            (await expected_json(pairing_ok, vk, proof, pub)) !== "ok" ||
            (await expected_compact(pairing_ok, vk, hex, pub)) !== "ok" ||
            !(await snarkjs.groth16.verify(vk, pub, proof))
        ) {
            throw new Error(`${circuit_name}: a freshly generated proof does not verify`);
        }
    }

    const cases = [];
    // json / compact: the two forms of the case (null = no such form). intent: the
    // status the mutation was designed for, for both forms unless given per form;
    // null = "whatever the checks say" (used where no single outcome is designed).
    async function add(name, { json, compact, pub, intent, intent_json, intent_compact }) {
        const ij = intent_json !== undefined ? intent_json : intent;
        const ic = intent_compact !== undefined ? intent_compact : intent;
        const expect_json = json === null ? null : await expected_json(pairing_ok, vk, json, pub);
        const expect_compact =
            compact === null ? null : await expected_compact(pairing_ok, vk, compact, pub);
        for (const [form, got, want] of [
            ["json", expect_json, ij],
            ["compact", expect_compact, ic],
        ]) {
            if (got !== null && want !== null && want !== undefined && got !== want) {
                throw new Error(
                    `${circuit_name}/${name} (${form}): derived ${got}, designed for ${want}`,
                );
            }
        }
        cases.push({
            name,
            proof: json,
            public: pub,
            compact_hex: compact,
            expect_json,
            expect_compact,
            snarkjs: await snarkjs_verdict(vk, pub, json),
        });
    }

    // ---- valid proofs
    for (let i = 0; i < N_VALID_CASES; i++) {
        const { proof, public: pub } = batch[i];
        await add(`valid_${i}`, {
            json: proof,
            compact: compress_proof(proof_from_json(proof)),
            pub,
            intent: "ok",
        });
    }
    for (const [i, { proof, public: pub }] of edge.entries()) {
        await add(`valid_edge_${i}`, {
            json: proof,
            compact: compress_proof(proof_from_json(proof)),
            pub,
            intent: "ok",
        });
    }

    const base = batch[0];
    const pts = proof_from_json(base.proof);
    const base_hex = compress_proof(pts);
    const pub0 = base.public;

    // ---- each Fq coordinate + 1: off the curve in JSON. The compact form can only
    // carry an x change; a shifted x lands on the curve about half the time, so the
    // compact outcome is whatever the checks derive (not_on_curve or invalid_proof, or
    // not_in_subgroup for B).
    const coords = [
        ["a_x", (p) => p.pi_a, 0, null],
        ["a_y", (p) => p.pi_a, 1, null],
        ["b_x_c0", (p) => p.pi_b[0], 0, null],
        ["b_x_c1", (p) => p.pi_b[0], 1, null],
        ["b_y_c0", (p) => p.pi_b[1], 0, null],
        ["b_y_c1", (p) => p.pi_b[1], 1, null],
        ["c_x", (p) => p.pi_c, 0, null],
        ["c_y", (p) => p.pi_c, 1, null],
    ];
    for (const [label, get, idx] of coords) {
        const json = clone(base.proof);
        const v = BigInt(get(json)[idx]) + 1n;
        get(json)[idx] = String(v);
        let compact = null;
        if (label === "a_x") compact = compact_with(base_hex, 0, g1_raw(v, g1_sign(pts.A)));
        if (label === "c_x") compact = compact_with(base_hex, 2, g1_raw(v, g1_sign(pts.C)));
        if (label === "b_x_c0")
            compact = compact_with(base_hex, 1, g2_raw([v, pts.B.x[1]], g2_sign(pts.B)));
        if (label === "b_x_c1")
            compact = compact_with(base_hex, 1, g2_raw([pts.B.x[0], v], g2_sign(pts.B)));
        await add(`${label}_plus_1`, {
            json,
            compact,
            pub: pub0,
            intent_json: "not_on_curve",
            intent_compact: null,
        });
    }

    // ---- valid points that are not the proof's
    const other_g1 = () => G1.mul(G1_GEN, rng.below(R - 1n) + 1n);
    const other_g2 = () => G2.mul(G2_GEN, rng.below(R - 1n) + 1n);
    for (const [label, slot] of [
        ["a", 0],
        ["b", 1],
        ["c", 2],
    ]) {
        const json = clone(base.proof);
        let compact;
        if (slot === 1) {
            const q = other_g2();
            json.pi_b = g2_to_json(q);
            compact = compact_with(base_hex, 1, compress_g2(q));
        } else {
            const q = other_g1();
            json[slot === 0 ? "pi_a" : "pi_c"] = g1_to_json(q);
            compact = compact_with(base_hex, slot, compress_g1(q));
        }
        await add(`${label}_other_valid_point`, {
            json,
            compact,
            pub: pub0,
            intent: "invalid_proof",
        });
    }

    // ---- public inputs
    for (let i = 0; i < pub0.length; i++) {
        const pub = [...pub0];
        pub[i] = String(BigInt(pub[i]) + 1n);
        // +1 on r - 1 would wrap to r; the bases are random, so this never happens, and
        // the intent check would catch it if it did.
        await add(`public_${i}_plus_1`, {
            json: base.proof,
            compact: base_hex,
            pub,
            intent: "invalid_proof",
        });
    }
    for (const i of [...new Set([0, pub0.length - 1])]) {
        for (const [label, v, intent] of [
            ["r", R, "input_out_of_range"],
            ["r_plus_1", R + 1n, "input_out_of_range"],
            ["r_minus_1", R - 1n, "invalid_proof"],
        ]) {
            const pub = [...pub0];
            pub[i] = String(v);
            await add(`public_${i}_equals_${label}`, {
                json: base.proof,
                compact: base_hex,
                pub,
                intent,
            });
        }
    }

    // ---- coordinates at and above p (JSON; the compact equivalents are below)
    for (const [label, get, idx, v] of [
        ["a_x_equals_p", (p) => p.pi_a, 0, P],
        ["a_y_equals_p_plus_1", (p) => p.pi_a, 1, P + 1n],
        ["b_x_c0_equals_p", (p) => p.pi_b[0], 0, P],
        ["b_x_c1_equals_p_plus_1", (p) => p.pi_b[0], 1, P + 1n],
        ["b_y_c0_equals_p_plus_1", (p) => p.pi_b[1], 0, P + 1n],
        ["b_y_c1_equals_p", (p) => p.pi_b[1], 1, P],
        ["c_x_equals_p_plus_1", (p) => p.pi_c, 0, P + 1n],
        ["c_y_equals_p", (p) => p.pi_c, 1, P],
        // x + p is the same field element as x: accepting it would make proofs malleable.
        ["a_x_plus_p", (p) => p.pi_a, 0, pts.A.x + P],
    ]) {
        const json = clone(base.proof);
        get(json)[idx] = String(v);
        await add(`json_${label}`, { json, compact: null, pub: pub0, intent: "bad_encoding" });
    }

    // ---- non-canonical decimal strings, in the proof and in the public inputs
    const a_x = String(pts.A.x);
    const bad_strings = [
        ["leading_zero", "0" + a_x],
        ["plus_sign", "+" + a_x],
        ["minus_sign", "-" + a_x],
        ["hex", "0x" + pts.A.x.toString(16)],
        ["empty", ""],
        ["space", " " + a_x],
        ["trailing_space", a_x + " "],
        ["exponent", "1e3"],
        ["fraction", a_x + ".0"],
        ["non_ascii_digit", "\u0661"],
        ["minus_zero", "-0"],
        ["double_zero", "00"],
    ];
    for (const [label, s] of bad_strings) {
        const json = clone(base.proof);
        json.pi_a[0] = s;
        await add(`json_a_x_${label}`, { json, compact: null, pub: pub0, intent: "bad_encoding" });
    }
    for (const [label, s] of [
        ["leading_zero", "0" + pub0[0]],
        ["minus_sign", "-" + pub0[0]],
        ["plus_sign", "+" + pub0[0]],
        ["hex", "0x" + BigInt(pub0[0]).toString(16)],
        ["empty", ""],
        ["double_zero", "00"],
        ["negative_one", "-1"],
    ]) {
        const pub = [...pub0];
        pub[0] = s;
        await add(`public_0_${label}`, {
            json: base.proof,
            compact: null,
            pub,
            intent: "bad_encoding",
        });
    }
    {
        const json = clone(base.proof);
        json.pi_b[0][1] = "0" + json.pi_b[0][1];
        await add("json_b_x_c1_leading_zero", {
            json,
            compact: null,
            pub: pub0,
            intent: "bad_encoding",
        });
    }
    {
        const json = clone(base.proof);
        json.pi_c[1] = "-" + json.pi_c[1];
        await add("json_c_y_minus_sign", {
            json,
            compact: null,
            pub: pub0,
            intent: "bad_encoding",
        });
    }

    // ---- JSON shape and the projective z coordinate
    const shape_cases = [
        [
            "json_a_z_2",
            (p) => {
                p.pi_a[2] = "2";
            },
        ],
        [
            "json_b_z_2",
            (p) => {
                p.pi_b[2] = ["2", "0"];
            },
        ],
        [
            "json_b_z_1_plus_u",
            (p) => {
                p.pi_b[2] = ["1", "1"];
            },
        ],
        [
            "json_c_z_2",
            (p) => {
                p.pi_c[2] = "2";
            },
        ],
        // z = 0 is only the point at infinity in its one canonical form.
        [
            "json_a_z_0_finite_coords",
            (p) => {
                p.pi_a[2] = "0";
            },
        ],
        [
            "json_b_z_0_finite_coords",
            (p) => {
                p.pi_b[2] = ["0", "0"];
            },
        ],
        // Near misses of the one accepted spelling of infinity.
        [
            "json_a_infinity_0_0_0",
            (p) => {
                p.pi_a = ["0", "0", "0"];
            },
        ],
        [
            "json_b_infinity_y_0_1",
            (p) => {
                p.pi_b = [
                    ["0", "0"],
                    ["0", "1"],
                    ["0", "0"],
                ];
            },
        ],
        [
            "json_a_two_coordinates",
            (p) => {
                p.pi_a = p.pi_a.slice(0, 2);
            },
        ],
        [
            "json_a_number_not_string",
            (p) => {
                p.pi_a[2] = 1;
            },
        ],
        [
            "json_c_missing",
            (p) => {
                delete p.pi_c;
            },
        ],
    ];
    for (const [name, mutate] of shape_cases) {
        const json = clone(base.proof);
        mutate(json);
        await add(name, { json, compact: null, pub: pub0, intent: "bad_encoding" });
    }
    {
        const pub = [...pub0];
        pub[0] = Number(1);
        await add("public_0_number_not_string", {
            json: base.proof,
            compact: null,
            pub,
            intent: "bad_encoding",
        });
    }

    // ---- the point at infinity in place of A, B or C
    for (const [label, slot] of [
        ["a", 0],
        ["b", 1],
        ["c", 2],
    ]) {
        const json = clone(base.proof);
        if (slot === 0) json.pi_a = g1_to_json(INF);
        if (slot === 1) json.pi_b = g2_to_json(INF);
        if (slot === 2) json.pi_c = g1_to_json(INF);
        const compact = compact_with(
            base_hex,
            slot,
            slot === 1 ? compress_g2(INF) : compress_g1(INF),
        );
        await add(`${label}_infinity`, { json, compact, pub: pub0, intent: "identity_point" });
    }

    // ---- B on the twist but outside the order-r subgroup
    const twisted = twist_point_outside_subgroup(rng);
    {
        const json = clone(base.proof);
        json.pi_b = g2_to_json(twisted);
        await add("b_not_in_subgroup", {
            json,
            compact: compact_with(base_hex, 1, compress_g2(twisted)),
            pub: pub0,
            intent: "not_in_subgroup",
        });
    }

    // ---- B with the Fq2 components swapped (the EIP-197 vs snarkjs order mix-up).
    // JSON: both x and y swapped. Compact: the two x halves exchanged, flags kept on
    // byte 0. No single outcome is designed; the checks decide.
    {
        const json = clone(base.proof);
        json.pi_b[0].reverse();
        json.pi_b[1].reverse();
        const compact = compact_with(base_hex, 1, g2_raw([pts.B.x[1], pts.B.x[0]], g2_sign(pts.B)));
        await add("b_c0_c1_swapped", { json, compact, pub: pub0, intent: null });
    }

    // ---- public input count
    await add("too_few_public_inputs", {
        json: base.proof,
        compact: base_hex,
        pub: pub0.slice(0, -1),
        intent: "wrong_input_count",
    });
    await add("too_many_public_inputs", {
        json: base.proof,
        compact: base_hex,
        pub: [...pub0, "0"],
        intent: "wrong_input_count",
    });
    await add("no_public_inputs", {
        json: base.proof,
        compact: base_hex,
        pub: [],
        intent: "wrong_input_count",
    });

    // ---- compact-only malformations
    const compact_only = async (name, hex, intent) =>
        add(name, { json: null, compact: hex, pub: pub0, intent });
    await compact_only("compact_127_bytes", base_hex.slice(0, -2), "bad_length");
    await compact_only("compact_129_bytes", base_hex + "00", "bad_length");
    await compact_only("compact_0_bytes", "", "bad_length");
    await compact_only("compact_256_bytes", base_hex + base_hex, "bad_length");
    await compact_only(
        "compact_a_x_equals_p_sign_set",
        compact_with(base_hex, 0, g1_raw(P, FLAG_SIGN)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_x_equals_p_no_flags",
        compact_with(base_hex, 0, g1_raw(P, 0)),
        "bad_encoding",
    );
    await compact_only(
        "compact_c_x_all_ones",
        compact_with(base_hex, 2, g1_raw((1n << 254n) - 1n, FLAG_SIGN)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_x_plus_p",
        compact_with(base_hex, 0, g1_raw(pts.A.x + P, g1_sign(pts.A))),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_c1_equals_p_sign_set",
        compact_with(base_hex, 1, g2_raw([pts.B.x[0], P], FLAG_SIGN)),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_c0_equals_p",
        compact_with(base_hex, 1, g2_raw([P, pts.B.x[1]], g2_sign(pts.B))),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_c0_all_ones",
        compact_with(base_hex, 1, g2_raw([(1n << 256n) - 1n, pts.B.x[1]], 0)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_both_flags",
        compact_with(base_hex, 0, g1_raw(pts.A.x, FLAG_SIGN | FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_both_flags",
        compact_with(base_hex, 1, g2_raw(pts.B.x, FLAG_SIGN | FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_c_both_flags_zero_x",
        compact_with(base_hex, 2, g1_raw(0n, FLAG_SIGN | FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_infinity_nonzero_x",
        compact_with(base_hex, 0, g1_raw(pts.A.x, FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_infinity_x_1",
        compact_with(base_hex, 0, g1_raw(1n, FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_infinity_nonzero_c0",
        compact_with(base_hex, 1, g2_raw([1n, 0n], FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_b_infinity_nonzero_c1",
        compact_with(base_hex, 1, g2_raw([0n, 1n], FLAG_INF)),
        "bad_encoding",
    );
    await compact_only(
        "compact_a_x_not_on_curve",
        compact_with(base_hex, 0, g1_raw(g1_x_off_curve(rng), 0)),
        "not_on_curve",
    );
    await compact_only(
        "compact_c_x_not_on_curve",
        compact_with(base_hex, 2, g1_raw(g1_x_off_curve(rng), FLAG_SIGN)),
        "not_on_curve",
    );
    await compact_only(
        "compact_b_x_not_on_curve",
        compact_with(base_hex, 1, g2_raw(g2_x_off_curve(rng), 0)),
        "not_on_curve",
    );
    // x = 0 on G1: 0^3 + 3 = 3 is not a square mod p, so no point has x = 0.
    await compact_only(
        "compact_a_x_zero",
        compact_with(base_hex, 0, g1_raw(0n, 0)),
        "not_on_curve",
    );
    for (const [label, slot] of [
        ["a", 0],
        ["b", 1],
        ["c", 2],
    ]) {
        const buf = Buffer.from(from_hex(base_hex));
        buf[[0, 32, 96][slot]] ^= FLAG_SIGN;
        await compact_only(`compact_${label}_y_sign_flipped`, buf.toString("hex"), "invalid_proof");
    }

    write_json(`groth16/${circuit_name}/cases.json`, {
        circuit: circuit_name,
        n_public: vk.nPublic,
        cases,
    });
    write_json(`groth16/${circuit_name}/batch.json`, {
        circuit: circuit_name,
        proofs: batch.map(({ proof, public: pub }) => ({
            proof,
            public: pub,
            compact_hex: compress_proof(proof_from_json(proof)),
        })),
    });
    return { cases: cases.length, batch: batch.length, prove_seconds };
}

const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(CIRCUITS);
const checker = await make_pairing_checker();
let status = 0;
try {
    for (const name of names) {
        const t0 = Date.now();
        const r = await generate(name, checker.pairing_ok);
        const total = (Date.now() - t0) / 1000;
        console.log(
            `${name}: ${r.cases} cases, ${r.batch} batch proofs, ` +
                `proving ${r.prove_seconds.toFixed(1)} s, total ${total.toFixed(1)} s`,
        );
    }
} catch (err) {
    console.error(err);
    status = 1;
}
// snarkjs/ffjavascript keep worker threads alive; without an explicit exit the
// process never ends.
await checker.terminate();
process.exit(status);
