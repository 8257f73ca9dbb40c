pragma circom 2.1.0;

// The zkcredit credit statement, protocol version 1 (docs/protocol.md §5),
// and the parts it shares with the withdrawal statement (withdraw.circom).
//
// Public inputs, in this order: root, scope, c_max, key_hash, x, nullifier,
// signal_y, c_new. Everything else is private to the user.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/eddsaposeidon.circom";

// Root of a binary Poseidon Merkle tree from a leaf and its authentication
// path; path_indices[i] = 1 when the running node is the right child.
template MerkleRoot(depth) {
    signal input leaf;
    signal input path_elements[depth];
    signal input path_indices[depth];
    signal output root;

    component hashers[depth];
    signal node[depth + 1];
    signal left[depth];
    signal right[depth];

    node[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        path_indices[i] * (1 - path_indices[i]) === 0;
        left[i] <== node[i] + path_indices[i] * (path_elements[i] - node[i]);
        right[i] <== path_elements[i] + node[i] - left[i];
        hashers[i] = Poseidon(2);
        hashers[i].inputs[0] <== left[i];
        hashers[i].inputs[1] <== right[i];
        node[i + 1] <== hashers[i].out;
    }
    root <== node[depth];
}

// Constrains `in` to fit in `bits` bits.
template RangeCheck(bits) {
    signal input in;
    component to_bits = Num2Bits(bits);
    to_bits.in <== in;
}

// The refund state a statement for ticket `ticket` builds on: genesis
// (ticket 0, no refunds yet) or a server signature on H(s, c, refund) with
// c = H(k, R_prev, ticket, salt_prev), by the key whose hash is key_hash.
// The commitment names the ticket it allows, so a statement for ticket i
// needs the voucher the server signed for ticket i - 1: a user's statements
// form one chain with no skipped ticket, and a withdrawal's ticket count is
// the number of tickets the chain used (docs/protocol.md §3.2).
// Amounts are range-checked to 64 bits and the ticket to 32 by the caller.
template RefundState() {
    signal input k;
    signal input scope;
    signal input key_hash;
    signal input ticket;
    signal input genesis;
    signal input refund_total_prev;
    signal input salt_prev;
    signal input refund;
    signal input voucher_r8x;
    signal input voucher_r8y;
    signal input voucher_s;
    signal input key_ax;
    signal input key_ay;
    signal output refund_total;

    genesis * (1 - genesis) === 0;
    genesis * refund_total_prev === 0;
    genesis * refund === 0;
    genesis * ticket === 0;

    component key_hasher = Poseidon(2);
    key_hasher.inputs[0] <== key_ax;
    key_hasher.inputs[1] <== key_ay;
    key_hasher.out === key_hash;

    component c_prev = Poseidon(4);
    c_prev.inputs[0] <== k;
    c_prev.inputs[1] <== refund_total_prev;
    c_prev.inputs[2] <== ticket;
    c_prev.inputs[3] <== salt_prev;
    component voucher_message = Poseidon(3);
    voucher_message.inputs[0] <== scope;
    voucher_message.inputs[1] <== c_prev.out;
    voucher_message.inputs[2] <== refund;

    component voucher = EdDSAPoseidonVerifier();
    voucher.enabled <== 1 - genesis;
    voucher.Ax <== key_ax;
    voucher.Ay <== key_ay;
    voucher.S <== voucher_s;
    voucher.R8x <== voucher_r8x;
    voucher.R8y <== voucher_r8y;
    voucher.M <== voucher_message.out;

    refund_total <== refund_total_prev + refund;
}

// Ticket `ticket`'s nullifier and the share of k on the line y = k + a x:
// a = H(k, s, ticket), nullifier = H(a), signal_y = k + a * x.
template TicketShare() {
    signal input k;
    signal input scope;
    signal input ticket;
    signal input x;
    signal input nullifier;
    signal input signal_y;

    component a_hash = Poseidon(3);
    a_hash.inputs[0] <== k;
    a_hash.inputs[1] <== scope;
    a_hash.inputs[2] <== ticket;
    component n_hash = Poseidon(1);
    n_hash.inputs[0] <== a_hash.out;
    n_hash.out === nullifier;
    signal_y === k + a_hash.out * x;
}

template Credit(depth) {
    // Public.
    signal input root;
    signal input scope;
    signal input c_max;
    signal input key_hash;
    signal input x;
    signal input nullifier;
    signal input signal_y;
    signal input c_new;

    // Private: identity and deposit.
    signal input k;
    signal input deposit;
    signal input path_elements[depth];
    signal input path_indices[depth];
    // Private: this request's ticket and the refund state it builds on.
    signal input ticket;
    signal input genesis;
    signal input refund_total_prev;
    signal input salt_prev;
    signal input refund;
    signal input voucher_r8x;
    signal input voucher_r8y;
    signal input voucher_s;
    signal input key_ax;
    signal input key_ay;
    signal input salt_new;

    // Amounts are below 2^64 and tickets below 2^32, so no sum or product
    // below can wrap around the field.
    component amount_checks[5];
    var amounts[5] = [c_max, deposit, refund_total_prev, refund, 0];
    for (var i = 0; i < 4; i++) {
        amount_checks[i] = RangeCheck(64);
        amount_checks[i].in <== amounts[i];
    }
    component ticket_check = RangeCheck(32);
    ticket_check.in <== ticket;

    // 1. H(H(k), D) is a leaf under root.
    component id_hash = Poseidon(1);
    id_hash.inputs[0] <== k;
    component leaf_hash = Poseidon(2);
    leaf_hash.inputs[0] <== id_hash.out;
    leaf_hash.inputs[1] <== deposit;
    component tree = MerkleRoot(depth);
    tree.leaf <== leaf_hash.out;
    for (var i = 0; i < depth; i++) {
        tree.path_elements[i] <== path_elements[i];
        tree.path_indices[i] <== path_indices[i];
    }
    tree.root === root;

    // 2. The refund state this ticket builds on.
    component state = RefundState();
    state.k <== k;
    state.scope <== scope;
    state.key_hash <== key_hash;
    state.ticket <== ticket;
    state.genesis <== genesis;
    state.refund_total_prev <== refund_total_prev;
    state.salt_prev <== salt_prev;
    state.refund <== refund;
    state.voucher_r8x <== voucher_r8x;
    state.voucher_r8y <== voucher_r8y;
    state.voucher_s <== voucher_s;
    state.key_ax <== key_ax;
    state.key_ay <== key_ay;
    signal refund_total <== state.refund_total;
    amount_checks[4] = RangeCheck(64);
    amount_checks[4].in <== refund_total;

    // 3. Solvency: (i + 1) * C_max <= D + R. Left side < 2^96, right < 2^65.
    signal needed <== (ticket + 1) * c_max;
    component solvent = LessEqThan(97);
    solvent.in[0] <== needed;
    solvent.in[1] <== deposit + refund_total;
    solvent.out === 1;

    // 4. Rate-limit nullifier and the share of k for this request.
    component share = TicketShare();
    share.k <== k;
    share.scope <== scope;
    share.ticket <== ticket;
    share.x <== x;
    share.nullifier <== nullifier;
    share.signal_y <== signal_y;

    // 5. The new refund state commitment, for the next ticket.
    component c_next = Poseidon(4);
    c_next.inputs[0] <== k;
    c_next.inputs[1] <== refund_total;
    c_next.inputs[2] <== ticket + 1;
    c_next.inputs[3] <== salt_new;
    c_next.out === c_new;
}
