// Real withdrawal proofs for the forge tests, called through vm.ffi: snarkjs
// proves circuits/withdraw.circom with the committed keys, and circomlibjs
// (tests/reference/protocol.mjs) builds the input, signs the voucher and
// computes shares.
//
//   node test/withdrawal.mjs <k> <scope> <tickets> <refund_total_prev> <refund> <x>
//                            [<share_k> <share_ticket> <share_x>]...
//
// proves that the refund chain of k used <tickets> tickets (a voucher of
// <refund> on a state of <refund_total_prev>, signed with the test voucher key
// below; genesis when <tickets> is 0) and gives the share of ticket <tickets>
// for the withdrawal binding <x>. Each trailing triple asks for one more
// share, y = k + a*x of ticket <share_ticket> of <share_k> (a request's, say).
// Prints 0x-hex abi.encode(uint256[8] proof, uint256[8] publicInputs,
// uint256 keyHash, uint256[] shares); the proof in the verifier's calldata
// order [a0, a1, b00, b01, b10, b11, c0, c1].
//
// A proof takes a second or two and loading circomlibjs another, and many
// tests ask the same: answers are kept in contracts/cache/withdrawal-proofs/,
// named by the SHA-256 of the zkey, the wasm, this script and the arguments,
// so new keys, a new circuit or a changed oracle prove again. Tests run in
// parallel; the first to ask writes the answer, the others wait for it.
// The wasm is ZKC_WITHDRAW_WASM, or build/circuits/withdraw_main_js/ of the
// repository (circuits/compile.sh).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(script), "../..");
const zkeyPath = path.join(root, "circuits/keys/withdraw.zkey");
const wasmPath =
    process.env.ZKC_WITHDRAW_WASM || path.join(root, "build/circuits/withdraw_main_js/withdraw_main.wasm");
const cacheDir = path.join(root, "contracts/cache/withdrawal-proofs");
// The server key whose key_hash test/Support.sol's TestParameters accepts.
const VOUCHER_KEY = Buffer.from("zkcredit forge test voucher key!");
const LOCK_STALE_MS = 120_000;

const word = (v) => BigInt(v).toString(16).padStart(64, "0");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
    process.stderr.write(`withdrawal.mjs: ${message}\n`);
    process.exit(2);
}

// The ABI-encoded answer for `args`, computed from scratch.
async function answer(args) {
    const snarkjs = await import("snarkjs");
    const { buildProtocol, withdrawInput } = await import("../../tests/reference/protocol.mjs");
    const [k, scope, tickets, refundTotalPrev, refund, x] = args.slice(0, 6).map(BigInt);
    const p = await buildProtocol();
    const key = p.serverKey(VOUCHER_KEY);
    let voucher = null;
    if (tickets > 0n) {
        // The voucher of the request with ticket tickets - 1: it signs the
        // state that request committed to, whose next ticket is `tickets`.
        const saltPrev = tickets + 0x5a17n;
        const c = p.commitment(k, refundTotalPrev, tickets, saltPrev);
        voucher = { ...p.signVoucher(VOUCHER_KEY, scope, c, refund), refundTotalPrev, saltPrev };
    }
    const input = withdrawInput(p, { k, scope, key, tickets, x, voucher });
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasmPath, zkeyPath);
    // snarkjs writes G2 coordinates as (c0, c1); the verifier takes (c1, c0).
    const calldata = [
        proof.pi_a[0], proof.pi_a[1],
        proof.pi_b[0][1], proof.pi_b[0][0], proof.pi_b[1][1], proof.pi_b[1][0],
        proof.pi_c[0], proof.pi_c[1],
    ];
    const shares = [];
    for (let i = 6; i < args.length; i += 3) {
        const [shareK, shareTicket, shareX] = args.slice(i, i + 3).map(BigInt);
        shares.push(p.signal(shareK, p.ticket(shareK, scope, shareTicket).a, shareX));
    }
    const head = [...calldata, ...publicSignals, key.keyHash].map(word).join("") + word(18 * 32);
    return "0x" + head + word(shares.length) + shares.map(word).join("");
}

async function cachedAnswer(args) {
    for (const file of [zkeyPath, wasmPath]) {
        if (!fs.existsSync(file)) fail(`${file} is missing (circuits/compile.sh builds the wasm)`);
    }
    const hash = createHash("sha256");
    for (const file of [zkeyPath, wasmPath, script]) hash.update(fs.readFileSync(file));
    hash.update(JSON.stringify(args));
    const file = path.join(cacheDir, `${hash.digest("hex")}.hex`);
    const lock = `${file}.lock`;
    fs.mkdirSync(cacheDir, { recursive: true });
    for (;;) {
        if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
        let handle;
        try {
            handle = fs.openSync(lock, "wx");
        } catch (e) {
            if (e.code !== "EEXIST") throw e;
            // Another test is proving the same statement; a lock left by a
            // killed run is taken over once it is stale.
            try {
                if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
            } catch (gone) {
                if (gone.code !== "ENOENT") throw gone;
            }
            await sleep(100);
            continue;
        }
        try {
            const result = await answer(args);
            const partial = `${file}.${process.pid}`;
            fs.writeFileSync(partial, result);
            fs.renameSync(partial, file);
            return result;
        } finally {
            fs.closeSync(handle);
            fs.rmSync(lock, { force: true });
        }
    }
}

const args = process.argv.slice(2);
if (args.length < 6 || (args.length - 6) % 3 !== 0) {
    fail("usage: withdrawal.mjs k scope tickets refund_total_prev refund x [share_k share_ticket share_x]...");
}
process.stdout.write(await cachedAnswer(args.map((v) => BigInt(v).toString())));
// snarkjs leaves worker threads behind.
process.exit(0);
