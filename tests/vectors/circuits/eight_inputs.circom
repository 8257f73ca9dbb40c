pragma circom 2.0.0;

include "circomlib/circuits/poseidon.circom";

// Eight public signals: digest = Poseidon(secret, x[0..6]) (output) followed by the
// seven public inputs x[0..6]. Every public input feeds the hash, so each one is bound.
template EightInputs() {
    signal input secret;
    signal input x[7];
    signal output digest;

    component h = Poseidon(8);
    h.inputs[0] <== secret;
    for (var i = 0; i < 7; i++) {
        h.inputs[i + 1] <== x[i];
    }
    digest <== h.out;
}

component main {public [x]} = EightInputs();
