#!/usr/bin/env node
// Generates libverify/src/poseidon_constants.cpp from circomlibjs's own
// Poseidon constants, so that our hash agrees with circomlibjs bit for bit.
//
// Source: npm package circomlibjs@0.1.7, file src/poseidon_constants_opt.js
// (the "optimised" constants C, M, P, S that circomlibjs's poseidon_opt.js and
// its WebAssembly poseidon use). Run from the repository root after
// `npm install circomlibjs@0.1.7`:
//
//   node libverify/tools/gen_poseidon_constants.js > libverify/src/poseidon_constants.cpp
//
// An optional first argument names another circomlibjs directory. Only
// dynamic imports: the script runs whether or not the repository's
// package.json declares "type": "module".
"use strict";

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const EXPECTED_VERSION = "0.1.7";
const N_ROUNDS_F = 8;
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

function fail(msg) {
    process.stderr.write(`gen_poseidon_constants: ${msg}\n`);
    process.exit(1);
}

// Montgomery form x * 2^256 mod r, as four little-endian 64-bit limbs.
function montLimbs(value) {
    const x = BigInt(value);
    if (x < 0n || x >= R) fail(`constant out of range: ${value}`);
    let m = (x << 256n) % R;
    const limbs = [];
    for (let i = 0; i < 4; i++) {
        limbs.push("0x" + (m & 0xffffffffffffffffn).toString(16).padStart(16, "0") + "ULL");
        m >>= 64n;
    }
    return "{" + limbs.join(", ") + "}";
}

function emitArray(out, name, values) {
    out.push(`const Limbs ${name}[${values.length}] = {`);
    for (const v of values) out.push(`    ${montLimbs(v)},`);
    out.push("};");
}

async function main() {
    const fs = await import("fs");
    const path = await import("path");
    const { pathToFileURL } = await import("url");
    const root = path.resolve(path.dirname(process.argv[1]), "..", "..");
    const pkgDir = path.resolve(process.argv[2] || path.join(root, "node_modules", "circomlibjs"));
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    if (pkg.name !== "circomlibjs" || pkg.version !== EXPECTED_VERSION) {
        fail(`expected circomlibjs@${EXPECTED_VERSION}, found ${pkg.name}@${pkg.version}`);
    }
    const file = path.join(pkgDir, "src", "poseidon_constants_opt.js");
    const opt = (await import(pathToFileURL(file).href)).default;

    const out = [];
    out.push("// GENERATED FILE, do not edit.");
    out.push("// Generator: libverify/tools/gen_poseidon_constants.js");
    out.push(`// Source: npm circomlibjs@${pkg.version}, src/poseidon_constants_opt.js`);
    out.push("// Command: node libverify/tools/gen_poseidon_constants.js"
             + " > libverify/src/poseidon_constants.cpp");
    out.push("// Every constant is stored in Montgomery form (x * 2^256 mod r), little-endian");
    out.push("// 64-bit limbs, r the BN254 scalar field modulus. Matrices are row-major and");
    out.push("// indexed exactly as circomlibjs indexes them (M[j][i] at j * t + i).");
    out.push("");
    out.push('#include "poseidon_constants.hpp"');
    out.push("");
    out.push("namespace libverify {");
    out.push("namespace poseidon_detail {");
    out.push("namespace {");
    out.push("");
    const tables = [];
    for (let i = 0; i < N_ROUNDS_P.length; i++) {
        const t = i + 2;
        const nP = N_ROUNDS_P[i];
        const C = opt.C[i], S = opt.S[i], M = opt.M[i], P = opt.P[i];
        if (C.length !== t * N_ROUNDS_F + nP) fail(`t=${t}: C has ${C.length} entries`);
        if (S.length !== (2 * t - 1) * nP) fail(`t=${t}: S has ${S.length} entries`);
        if (M.length !== t || P.length !== t) fail(`t=${t}: matrix size`);
        for (const row of [...M, ...P]) if (row.length !== t) fail(`t=${t}: matrix row size`);
        out.push(`// t = ${t}: ${N_ROUNDS_F} full rounds, ${nP} partial rounds.`);
        emitArray(out, `kC${t}`, C);
        emitArray(out, `kS${t}`, S);
        emitArray(out, `kM${t}`, M.flat());
        emitArray(out, `kP${t}`, P.flat());
        out.push("");
        tables.push(`    {${t}, ${nP}, kC${t}, kS${t}, kM${t}, kP${t}},`);
    }
    out.push("}  // namespace");
    out.push("");
    out.push(`const Params kParams[kMaxWidth - 1] = {`);
    out.push(...tables);
    out.push("};");
    out.push("");
    out.push("}  // namespace poseidon_detail");
    out.push("}  // namespace libverify");
    process.stdout.write(out.join("\n") + "\n");
}

main().catch((e) => fail(e.stack || String(e)));
