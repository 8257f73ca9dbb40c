#!/usr/bin/env node
// Times snarkjs.groth16.verify in-process on one vector (warm: the bn128
// curve is built once and cached by snarkjs), and prints the median in
// microseconds as JSON: {"median_us": ..., "iterations": ...}.
//
// usage: node bench/snarkjs_verify.js [vector_dir] [iterations]
//   vector_dir defaults to tests/vectors/groth16/eight_inputs and must hold
//   verification_key.json and cases.json (the first case expected "ok" is used).
"use strict";

const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const snarkjs = require(path.join(root, "node_modules", "snarkjs"));

async function main() {
    const dir = path.resolve(process.argv[2] || path.join(root, "tests/vectors/groth16/eight_inputs"));
    const iterations = parseInt(process.argv[3] || "200", 10);
    const vk = JSON.parse(fs.readFileSync(path.join(dir, "verification_key.json"), "utf8"));
    const cases = JSON.parse(fs.readFileSync(path.join(dir, "cases.json"), "utf8")).cases;
    const valid = cases.find((c) => c.expect_json === "ok" && c.proof);
    if (!valid) {
        throw new Error(`no valid case in ${dir}`);
    }
    for (let i = 0; i < 20; ++i) {
        if (!(await snarkjs.groth16.verify(vk, valid.public, valid.proof))) {
            throw new Error("snarkjs rejected the valid case");
        }
    }
    const times = [];
    for (let i = 0; i < iterations; ++i) {
        const t0 = process.hrtime.bigint();
        await snarkjs.groth16.verify(vk, valid.public, valid.proof);
        times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(JSON.stringify({ median_us: median, iterations, vector: dir, case: valid.name }));
}

main()
    .then(() => process.exit(0))
    .catch((err) => {
        console.error(err);
        process.exit(1);
    });
