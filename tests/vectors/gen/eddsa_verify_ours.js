#!/usr/bin/env node
// Reads the JSON that libverify's crosscheck_emit prints (stdin) and checks
// every item with independent implementations: EdDSA-Poseidon signatures,
// public keys and packed signatures with circomlibjs (eddsa.prv2pub,
// verifyPoseidon, packSignature, unpackSignature), Poseidon with circomlibjs,
// hash_to_field with node's crypto blake2b512. Exits 1 if any check fails and
// 77 (CTest's skip code) when circomlibjs is not installed at the repository
// root. Works whether the root package.json says "type": "module" or not.
"use strict";

const SKIP = 77;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

async function main() {
    const fs = await import("fs");
    const path = await import("path");
    const url = await import("url");
    const crypto = await import("crypto");

    const root = path.resolve(path.dirname(process.argv[1]), "..", "..", "..");
    const pkgDir = path.join(root, "node_modules", "circomlibjs");
    if (!fs.existsSync(path.join(pkgDir, "main.js"))) {
        console.log(`SKIP: ${pkgDir} is missing; run npm install at the repository root`);
        process.exit(SKIP);
    }
    const circomlibjs = await import(url.pathToFileURL(path.join(pkgDir, "main.js")).href);
    const eddsa = await circomlibjs.buildEddsa();
    const poseidon = await circomlibjs.buildPoseidon();
    const F = eddsa.babyJub.F;

    const input = JSON.parse(fs.readFileSync(0, "utf8"));
    let passed = 0;
    let failed = 0;
    const check = (ok, what) => {
        if (ok) {
            passed++;
        } else {
            failed++;
            console.log(`FAIL: ${what}`);
        }
    };
    const eqPoint = (p, q) => F.eq(p[0], q[0]) && F.eq(p[1], q[1]);

    for (const [i, c] of input.eddsa.entries()) {
        const prv = Buffer.from(c.private_key_hex, "hex");
        const A = c.public_key.map((v) => F.e(v));
        const msg = F.e(c.message);
        const sig = { R8: c.signature.R8.map((v) => F.e(v)), S: BigInt(c.signature.S) };
        check(eqPoint(eddsa.prv2pub(prv), A), `eddsa[${i}] public key`);
        check(eddsa.verifyPoseidon(msg, sig, A), `eddsa[${i}] verifyPoseidon`);
        const theirs = eddsa.signPoseidon(prv, msg);
        check(eqPoint(theirs.R8, sig.R8) && theirs.S === sig.S, `eddsa[${i}] same signature`);
        const packed = Buffer.from(eddsa.packSignature(sig)).toString("hex");
        check(packed === c.packed_signature_hex, `eddsa[${i}] packSignature`);
        const unpacked = eddsa.unpackSignature(Buffer.from(c.packed_signature_hex, "hex"));
        check(unpacked !== null && eddsa.verifyPoseidon(msg, unpacked, A),
              `eddsa[${i}] unpackSignature + verifyPoseidon`);
    }
    for (const [i, c] of input.poseidon.entries()) {
        const out = F.toObject(poseidon(c.inputs.map((v) => BigInt(v))));
        check(out === BigInt(c.output), `poseidon[${i}] (${c.inputs.length} inputs)`);
    }
    for (const [i, c] of input.hash_to_field.entries()) {
        const tag = Buffer.from(c.tag, "utf8");
        const h = crypto.createHash("blake2b512")
            .update(Buffer.concat([Buffer.from([tag.length]), tag, Buffer.from(c.data_hex, "hex")]))
            .digest();
        let v = 0n;
        for (let j = h.length - 1; j >= 0; j--) v = (v << 8n) | BigInt(h[j]);
        check(v % R === BigInt(c.output), `hash_to_field[${i}]`);
    }
    if (input.eddsa.length === 0 || input.poseidon.length === 0 || input.hash_to_field.length === 0) {
        check(false, "empty section in the input");
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
