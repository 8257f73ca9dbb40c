// Reference implementation of the zkcredit v1 protocol (docs/protocol.md) in
// JavaScript on circomlibjs: the independent oracle the C++ client, the
// circuit and the gateway are checked against. Not optimised; exact.

import { createHash } from "node:crypto";
import { buildPoseidon, buildEddsa, buildBabyjub } from "circomlibjs";

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const REQUEST_TAG = "zkcredit/v1/request";

export async function buildProtocol() {
    const poseidon = await buildPoseidon();
    const eddsa = await buildEddsa();
    const babyJub = await buildBabyjub();
    return new Protocol(poseidon, eddsa, babyJub);
}

function bytesToBigLE(bytes) {
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return v;
}

export function fieldToBytesBE(v) {
    const out = Buffer.alloc(32);
    let x = BigInt(v);
    for (let i = 31; i >= 0; i--) {
        out[i] = Number(x & 0xffn);
        x >>= 8n;
    }
    return out;
}

export function hashToField(tag, data) {
    const tagBytes = Buffer.from(tag, "utf8");
    if (tagBytes.length > 255) throw new Error("tag longer than 255 bytes");
    const digest = createHash("blake2b512")
        .update(Buffer.from([tagBytes.length])).update(tagBytes).update(data).digest();
    return bytesToBigLE(digest) % R;
}

// docs/protocol.md §5.2
export function requestBinding(method, target, body, nonce) {
    if (nonce.length !== 16) throw new Error("nonce must be 16 bytes");
    const m = Buffer.from(method, "latin1");
    const t = Buffer.from(target, "latin1");
    const header = Buffer.alloc(1 + 2 + m.length + 4 + t.length);
    let o = header.writeUInt8(1, 0);
    o = header.writeUInt16BE(m.length, o);
    o += m.copy(header, o);
    o = header.writeUInt32BE(t.length, o);
    t.copy(header, o);
    const bodyDigest = createHash("sha256").update(body || Buffer.alloc(0)).digest();
    return hashToField(REQUEST_TAG, Buffer.concat([header, bodyDigest, nonce]));
}

export class Protocol {
    constructor(poseidon, eddsa, babyJub) {
        this.poseidon = poseidon;
        this.eddsa = eddsa;
        this.babyJub = babyJub;
        this.F = poseidon.F;
    }

    H(...inputs) {
        return this.F.toObject(this.poseidon(inputs.map((v) => BigInt(v))));
    }

    identity(k) { return this.H(k); }
    leaf(k, deposit) { return this.H(this.identity(k), deposit); }
    ticket(k, scope, i) {
        const a = this.H(k, scope, i);
        return { a, nullifier: this.H(a) };
    }
    signal(k, a, x) { return (BigInt(k) + BigInt(a) * BigInt(x)) % R; }
    // The refund state before ticket `nextTicket` (docs/protocol.md §5.3).
    commitment(k, refundTotal, nextTicket, salt) { return this.H(k, refundTotal, nextTicket, salt); }
    voucherMessage(scope, c, refund) { return this.H(scope, c, refund); }

    serverKey(privateKey) {
        const A = this.eddsa.prv2pub(privateKey);
        const ax = this.F.toObject(A[0]);
        const ay = this.F.toObject(A[1]);
        return { ax, ay, keyHash: this.H(ax, ay) };
    }

    signVoucher(privateKey, scope, c, refund) {
        const m = this.F.e(this.voucherMessage(scope, c, refund));
        const sig = this.eddsa.signPoseidon(privateKey, m);
        return {
            refund: BigInt(refund),
            r8x: this.F.toObject(sig.R8[0]),
            r8y: this.F.toObject(sig.R8[1]),
            s: sig.S,
        };
    }

    static recoverKey(x1, y1, x2, y2) {
        const mod = (v) => ((v % R) + R) % R;
        const num = mod(y1 * x2 - y2 * x1);
        const den = mod(x2 - x1);
        return mod(num * modInverse(den));
    }
}

function modInverse(a) {
    let [oldR, r] = [a, R];
    let [oldS, s] = [1n, 0n];
    while (r !== 0n) {
        const q = oldR / r;
        [oldR, r] = [r, oldR - q * r];
        [oldS, s] = [s, oldS - q * s];
    }
    return ((oldS % R) + R) % R;
}

// Append-only Poseidon Merkle tree with empty leaves 0 (docs/protocol.md §4).
export class Tree {
    constructor(protocol, depth) {
        this.p = protocol;
        this.depth = depth;
        this.leaves = [];
        this.zeros = [0n];
        for (let i = 0; i < depth; i++) this.zeros.push(protocol.H(this.zeros[i], this.zeros[i]));
    }

    append(leaf) {
        this.leaves.push(BigInt(leaf));
        return this.leaves.length - 1;
    }

    level(nodes, height) {
        const next = [];
        for (let j = 0; j < nodes.length; j += 2) {
            const right = j + 1 < nodes.length ? nodes[j + 1] : this.zeros[height];
            next.push(this.p.H(nodes[j], right));
        }
        return next;
    }

    root() {
        let nodes = this.leaves.slice();
        for (let h = 0; h < this.depth; h++) {
            if (nodes.length === 0) return this.zeros[this.depth];
            nodes = this.level(nodes, h);
        }
        return nodes[0];
    }

    path(index) {
        const elements = [];
        const indices = [];
        let nodes = this.leaves.slice();
        let pos = index;
        for (let h = 0; h < this.depth; h++) {
            const sibling = pos ^ 1;
            elements.push(sibling < nodes.length ? nodes[sibling] : this.zeros[h]);
            indices.push(pos & 1);
            nodes = this.level(nodes, h);
            pos >>= 1;
        }
        return { elements, indices };
    }
}

// The voucher part of a statement's input: the refund state it builds on.
// `voucher` is null at genesis; otherwise { refund, r8x, r8y, s, refundTotalPrev, saltPrev }.
function refundStateInput(key, voucher) {
    const str = (v) => BigInt(v).toString();
    return {
        genesis: voucher ? "0" : "1",
        refund_total_prev: str(voucher ? voucher.refundTotalPrev : 0n),
        salt_prev: str(voucher ? voucher.saltPrev : 0n),
        refund: str(voucher ? voucher.refund : 0n),
        // At genesis the signature is unused; the identity point keeps the
        // verifier's arithmetic defined.
        voucher_r8x: str(voucher ? voucher.r8x : 0n),
        voucher_r8y: str(voucher ? voucher.r8y : 1n),
        voucher_s: str(voucher ? voucher.s : 0n),
        key_ax: str(key.ax),
        key_ay: str(key.ay),
    };
}

// The refund total a statement built on `voucher` carries on with.
function refundTotalAfter(voucher) {
    return voucher ? voucher.refundTotalPrev + voucher.refund : 0n;
}

// The withdrawal circuit's input object (circuits/withdraw.circom): the
// chain used `tickets` tickets (the voucher is the one for ticket
// tickets - 1, or null when none was used) and x is the withdrawal binding.
export function withdrawInput(p, { k, scope, key, tickets, x, voucher }) {
    const { a, nullifier } = p.ticket(k, scope, tickets);
    const str = (v) => BigInt(v).toString();
    return {
        id: str(p.identity(k)),
        scope: str(scope),
        key_hash: str(key.keyHash),
        tickets: str(tickets),
        refund_total: str(refundTotalAfter(voucher)),
        x: str(x),
        nullifier: str(nullifier),
        signal_y: str(p.signal(k, a, x)),
        k: str(k),
        ...refundStateInput(key, voucher),
    };
}

// The circuit's input object (circuits/credit.circom) for one request.
// `voucher` is null at genesis; otherwise { refund, r8x, r8y, s, refundTotalPrev, saltPrev }.
export function creditInput(p, { k, deposit, tree, leafIndex, scope, cMax, key, ticket, x, voucher, saltNew }) {
    const { a, nullifier } = p.ticket(k, scope, ticket);
    const path = tree.path(leafIndex);
    const str = (v) => BigInt(v).toString();
    return {
        root: str(tree.root()),
        scope: str(scope),
        c_max: str(cMax),
        key_hash: str(key.keyHash),
        x: str(x),
        nullifier: str(nullifier),
        signal_y: str(p.signal(k, a, x)),
        c_new: str(p.commitment(k, refundTotalAfter(voucher), BigInt(ticket) + 1n, saltNew)),
        k: str(k),
        deposit: str(deposit),
        path_elements: path.elements.map(str),
        path_indices: path.indices.map(str),
        ticket: str(ticket),
        ...refundStateInput(key, voucher),
        salt_new: str(saltNew),
    };
}
