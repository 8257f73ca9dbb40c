// Re-checks the committed vector files without regenerating them: every expected status
// is derived again from the stored proof / compact bytes, every batch proof must verify,
// snarkjs's recorded verdicts must still be what snarkjs says, and the Poseidon, EdDSA
// and hash-to-field outputs are recomputed. Run it after touching lib/ or a vector file.
//
// Usage: node tests/vectors/gen/validate.mjs

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as snarkjs from "snarkjs";
import { buildEddsa, buildPoseidon } from "circomlibjs";

import { R } from "./lib/bn254.mjs";
import {
    compress_proof,
    expected_compact,
    expected_json,
    proof_from_json,
} from "./lib/encoding.mjs";
import { make_pairing_checker } from "./lib/pairing.mjs";
import { VECTORS_DIR } from "./lib/io.mjs";

const read = (p) => JSON.parse(readFileSync(resolve(VECTORS_DIR, p), "utf8"));
const failures = [];
const fail = (what) => failures.push(what);

const checker = await make_pairing_checker();
let groth16_cases = 0;
for (const circuit of ["multiplier", "poseidon_preimage", "eight_inputs"]) {
    const vk = read(`groth16/${circuit}/verification_key.json`);
    const { n_public, cases } = read(`groth16/${circuit}/cases.json`);
    if (n_public !== vk.nPublic) fail(`${circuit}: n_public ${n_public} != vk ${vk.nPublic}`);
    const names = new Set();
    for (const c of cases) {
        const id = `${circuit}/${c.name}`;
        if (names.has(c.name)) fail(`${id}: duplicate name`);
        names.add(c.name);
        const ej =
            c.proof === null
                ? null
                : await expected_json(checker.pairing_ok, vk, c.proof, c.public);
        const ec =
            c.compact_hex === null
                ? null
                : await expected_compact(checker.pairing_ok, vk, c.compact_hex, c.public);
        if (ej !== c.expect_json) fail(`${id}: expect_json ${c.expect_json}, derived ${ej}`);
        if (ec !== c.expect_compact)
            fail(`${id}: expect_compact ${c.expect_compact}, derived ${ec}`);
        let verdict = null;
        if (c.proof !== null) {
            try {
                verdict = await snarkjs.groth16.verify(vk, c.public, c.proof);
            } catch {
                verdict = null;
            }
        }
        if (verdict !== c.snarkjs) fail(`${id}: snarkjs recorded ${c.snarkjs}, now ${verdict}`);
        groth16_cases++;
    }
    const { proofs } = read(`groth16/${circuit}/batch.json`);
    for (const [i, { proof, public: pub, compact_hex }] of proofs.entries()) {
        if (compress_proof(proof_from_json(proof)) !== compact_hex)
            fail(`${circuit} batch ${i}: compact form differs`);
        if ((await expected_compact(checker.pairing_ok, vk, compact_hex, pub)) !== "ok")
            fail(`${circuit} batch ${i}: not ok`);
    }
}

const poseidon = await buildPoseidon();
const { cases: poseidon_cases } = read("poseidon/poseidon.json");
for (const [i, c] of poseidon_cases.entries()) {
    if (String(poseidon.F.toObject(poseidon(c.inputs.map(BigInt)))) !== c.output)
        fail(`poseidon case ${i}`);
}

const eddsa = await buildEddsa();
const F = eddsa.F;
const { cases: eddsa_cases } = read("eddsa/eddsa.json");
for (const [i, c] of eddsa_cases.entries()) {
    const pt = ([x, y]) => [F.e(BigInt(x)), F.e(BigInt(y))];
    const sig = { R8: pt(c.signature.R8), S: BigInt(c.signature.S) };
    const pub = pt(c.public_key);
    if (!eddsa.verifyPoseidon(F.e(BigInt(c.message)), sig, pub))
        fail(`eddsa case ${i}: does not verify`);
    const derived = eddsa.prv2pub(Buffer.from(c.private_key_hex, "hex"));
    if (!F.eq(derived[0], pub[0]) || !F.eq(derived[1], pub[1])) fail(`eddsa case ${i}: public key`);
    if (Buffer.from(eddsa.packSignature(sig)).toString("hex") !== c.packed_signature_hex)
        fail(`eddsa case ${i}: packing`);
}

const { cases: h2f_cases } = read("hash_to_field.json");
for (const [i, c] of h2f_cases.entries()) {
    const tag = Buffer.from(c.tag_hex, "hex");
    if (tag.toString("utf8") !== c.tag) fail(`hash_to_field case ${i}: tag / tag_hex mismatch`);
    const digest = createHash("blake2b512")
        .update(Buffer.from([tag.length]))
        .update(tag)
        .update(Buffer.from(c.data_hex, "hex"))
        .digest();
    if (String(BigInt("0x" + digest.reverse().toString("hex")) % R) !== c.output)
        fail(`hash_to_field case ${i}`);
}

await checker.terminate();
for (const f of failures) console.error(`FAIL ${f}`);
console.log(
    `validate: ${groth16_cases} groth16 cases, ${poseidon_cases.length} poseidon, ` +
        `${eddsa_cases.length} eddsa, ${h2f_cases.length} hash_to_field; ` +
        `${failures.length} problem(s)`,
);
process.exit(failures.length === 0 ? 0 : 1);
