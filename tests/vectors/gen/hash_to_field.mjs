// Generates tests/vectors/hash_to_field.json for the project's domain-separated hash to
// the scalar field:
//   output = LE-integer(BLAKE2b-512(byte(len(tag)) || tag || data)) mod r
// The 64-byte digest makes the reduction bias negligible (< 2^-250). Tags are at most
// 255 bytes because their length is a single prefix byte. `tag` is the text (UTF-8 when
// hashed); `tag_hex` spells out its bytes, so the non-ASCII tag is unambiguous.

import { createHash } from "node:crypto";
import { R } from "./lib/bn254.mjs";
import { Drbg } from "./lib/drbg.mjs";
import { write_json } from "./lib/io.mjs";

const rng = new Drbg("zkcredit/vectors/hash_to_field/v1");

function hash_to_field(tag, data) {
    if (tag.length > 255) throw new Error("tag longer than 255 bytes");
    const digest = createHash("blake2b512")
        .update(Buffer.from([tag.length]))
        .update(tag)
        .update(data)
        .digest();
    const le = BigInt("0x" + Buffer.from(digest).reverse().toString("hex"));
    return le % R;
}

const tags = [
    Buffer.from("zkcredit/v1/request"),
    Buffer.from("zkcredit/v1/nullifier"),
    Buffer.alloc(0),
    Buffer.from("zkcredit/long-tag/".repeat(15).slice(0, 255)),
    Buffer.from("\u00e9t\u00e9/utf-8"),
];
const data_lengths = [0, 1, 31, 32, 33, 64, 1000];

const cases = [];
for (const tag of tags) {
    for (const len of data_lengths) {
        const data = rng.bytes(len);
        cases.push({
            tag: tag.toString("utf8"),
            tag_hex: tag.toString("hex"),
            data_hex: data.toString("hex"),
            output: String(hash_to_field(tag, data)),
        });
    }
}
// The length prefix is what keeps (tag, data) pairs apart: these two share the bytes
// "ab" || "c" vs "a" || "bc" and must hash differently.
cases.push({
    tag: "ab",
    tag_hex: "6162",
    data_hex: "63",
    output: String(hash_to_field(Buffer.from("ab"), Buffer.from("c"))),
});
cases.push({
    tag: "a",
    tag_hex: "61",
    data_hex: "6263",
    output: String(hash_to_field(Buffer.from("a"), Buffer.from("bc"))),
});

write_json("hash_to_field.json", { cases });
console.log(`hash_to_field: ${cases.length} cases`);
