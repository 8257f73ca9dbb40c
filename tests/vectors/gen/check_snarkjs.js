#!/usr/bin/env node
// Differential oracle: asks snarkjs for its verdict on Groth16 proofs.
//
// stdin:  a JSON array of {"vk_path": <path to verification_key.json>, "proof": <snarkjs
//         proof object>, "public": [<decimal strings>]}
// stdout: one JSON line per element, in input order:
//         {"index": i, "verified": true|false|null, "error": <message, only when null>}
// "verified" is what snarkjs.groth16.verify returned; null means it threw (snarkjs
// throws on some malformed inputs rather than returning false).
// The exit code is 0 whenever every line was printed, 2 for unusable stdin.
//
// snarkjs keeps curve worker threads alive, so the script ends with process.exit.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const snarkjs = require("snarkjs");

async function main() {
    let requests;
    try {
        requests = JSON.parse(fs.readFileSync(0, "utf8"));
        if (!Array.isArray(requests)) throw new Error("stdin is not a JSON array");
    } catch (err) {
        process.stderr.write(`check_snarkjs: ${err.message}\n`);
        return 2;
    }
    // Verification keys are shared by many requests; read each file once.
    const vks = new Map();
    const load_vk = (p) => {
        const key = path.resolve(p);
        if (!vks.has(key)) vks.set(key, JSON.parse(fs.readFileSync(key, "utf8")));
        return vks.get(key);
    };
    for (const [index, req] of requests.entries()) {
        let line;
        try {
            const verified = await snarkjs.groth16.verify(
                load_vk(req.vk_path),
                req.public,
                req.proof,
            );
            line = { index, verified };
        } catch (err) {
            line = { index, verified: null, error: String(err && err.message ? err.message : err) };
        }
        process.stdout.write(JSON.stringify(line) + "\n");
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`check_snarkjs: ${err.stack || err}\n`);
        process.exit(1);
    },
);
