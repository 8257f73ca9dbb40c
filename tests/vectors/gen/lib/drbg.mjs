// Deterministic byte stream (SHA-256 in counter mode over a text seed), so that every
// "random" input in the vectors is reproducible from the generator's source alone.

import { createHash } from "node:crypto";

export class Drbg {
    constructor(seed) {
        this.seed = Buffer.from(seed, "utf8");
        this.counter = 0;
    }

    bytes(n) {
        const chunks = [];
        let have = 0;
        while (have < n) {
            const ctr = Buffer.alloc(8);
            ctr.writeBigUInt64BE(BigInt(this.counter++));
            const block = createHash("sha256").update(this.seed).update(ctr).digest();
            chunks.push(block);
            have += block.length;
        }
        return Buffer.concat(chunks).subarray(0, n);
    }

    // Uniform enough below m: 512 bits reduced mod a 254-bit m has bias < 2^-250.
    below(m) {
        return BigInt("0x" + this.bytes(64).toString("hex")) % m;
    }
}
