// What both circuit tests (circuits/test/) check of a real proof, and their
// runner's exit.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";
import * as snarkjs from "snarkjs";
import { R } from "./protocol.mjs";

// A proof of `input` verifies under the ceremony's key with exactly the
// public inputs `publicOrder` names, and fails when any of them changes.
export async function assertProofBindsItsPublicInputs({ input, wasm, zkey, vkPath, publicOrder }) {
    const vk = JSON.parse(readFileSync(vkPath, "utf8"));
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey);
    assert.deepEqual(publicSignals, publicOrder.map((name) => input[name]));
    assert.equal(await snarkjs.groth16.verify(vk, publicSignals, proof), true);
    for (let i = 0; i < publicSignals.length; i++) {
        const tampered = publicSignals.slice();
        tampered[i] = ((BigInt(tampered[i]) + 1n) % R).toString();
        assert.equal(await snarkjs.groth16.verify(vk, tampered, proof), false, `public input ${i}`);
    }
}

// snarkjs keeps curve worker threads alive; the runner must not wait for them.
export function exitWhenDone() {
    test.after(() => {
        setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
    });
}
