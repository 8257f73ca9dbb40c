pragma circom 2.1.0;

include "withdraw.circom";

component main {public [id, scope, key_hash, tickets, refund_total, x, nullifier, signal_y]} = Withdraw();
