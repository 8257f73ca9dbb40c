// Checks refund vouchers as a client would, with circomlibjs: the signature
// of H(scope, c_new, refund) under the server key whose hash the voucher names.
//
// One request per line on stdin, one answer per line on stdout, until stdin
// closes (the tests keep one process: building circomlibjs's EdDSA and Baby
// Jubjub takes longer than all the checks of a test):
//   request: { key_packed_hex, scope, checks: [{ c_new, refund_b64 }] }
//   answer:  { results: [{ ok, amount }] }

import { createInterface } from "node:readline";
import { buildProtocol } from "./protocol.mjs";

const p = await buildProtocol();

function check(spec) {
    const A = p.babyJub.unpackPoint(Buffer.from(spec.key_packed_hex, "hex"));
    const keyHash = p.H(p.F.toObject(A[0]), p.F.toObject(A[1]));
    const results = spec.checks.map(({ c_new, refund_b64 }) => {
        const raw = Buffer.from(refund_b64, "base64url");
        if (raw.length !== 105 || raw[0] !== 1) return { ok: false, amount: null };
        const amount = raw.readBigUInt64BE(1);
        const namedKey = BigInt("0x" + raw.subarray(9, 41).toString("hex"));
        const sig = p.eddsa.unpackSignature(Uint8Array.from(raw.subarray(41, 105)));
        const msg = p.F.e(p.voucherMessage(BigInt(spec.scope), BigInt(c_new), amount));
        const ok = namedKey === keyHash && p.eddsa.verifyPoseidon(msg, sig, A);
        return { ok, amount: amount.toString() };
    });
    return { results };
}

for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== "") process.stdout.write(JSON.stringify(check(JSON.parse(line))) + "\n");
}
process.exit(0);
