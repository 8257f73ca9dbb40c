pragma circom 2.1.0;

// The zkcredit withdrawal statement (docs/protocol.md §3.2).
//
// Public inputs, in this order: id, scope, key_hash, tickets, refund_total,
// x, nullifier, signal_y. The deposit contract checks the rest: that `id`
// has an active deposit of D credits, that tickets * C_max <= D + R, and
// that x binds the recipient, the contract and the chain.
//
// The statement: the prover knows the k of `id`; its refund chain has used
// exactly `tickets` tickets and collected `refund_total` in refunds (the
// voucher the server signed for the last of them, or genesis when none was
// used); and it hands over the share of the next ticket, `tickets`, for the
// withdrawal's binding x. A chain that went on past `tickets` has spent that
// ticket for a request, so the two shares reveal k and the withdrawal is
// slashed instead (the contract's challenge).

include "credit.circom";

template Withdraw() {
    // Public.
    signal input id;
    signal input scope;
    signal input key_hash;
    signal input tickets;
    signal input refund_total;
    signal input x;
    signal input nullifier;
    signal input signal_y;

    // Private.
    signal input k;
    signal input genesis;
    signal input refund_total_prev;
    signal input salt_prev;
    signal input refund;
    signal input voucher_r8x;
    signal input voucher_r8y;
    signal input voucher_s;
    signal input key_ax;
    signal input key_ay;

    // Tickets below 2^32 and amounts below 2^64: the sum cannot wrap.
    component ticket_check = RangeCheck(32);
    ticket_check.in <== tickets;
    component amount_checks[3];
    var amounts[3] = [refund_total_prev, refund, refund_total];
    for (var i = 0; i < 3; i++) {
        amount_checks[i] = RangeCheck(64);
        amount_checks[i].in <== amounts[i];
    }

    component id_hash = Poseidon(1);
    id_hash.inputs[0] <== k;
    id_hash.out === id;

    component state = RefundState();
    state.k <== k;
    state.scope <== scope;
    state.key_hash <== key_hash;
    state.ticket <== tickets;
    state.genesis <== genesis;
    state.refund_total_prev <== refund_total_prev;
    state.salt_prev <== salt_prev;
    state.refund <== refund;
    state.voucher_r8x <== voucher_r8x;
    state.voucher_r8y <== voucher_r8y;
    state.voucher_s <== voucher_s;
    state.key_ax <== key_ax;
    state.key_ay <== key_ay;
    state.refund_total === refund_total;

    component share = TicketShare();
    share.k <== k;
    share.scope <== scope;
    share.ticket <== tickets;
    share.x <== x;
    share.nullifier <== nullifier;
    share.signal_y <== signal_y;
}
