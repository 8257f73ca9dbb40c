pragma circom 2.1.0;

include "credit.circom";

component main {public [root, scope, c_max, key_hash, x, nullifier, signal_y, c_new]} = Credit(20);
