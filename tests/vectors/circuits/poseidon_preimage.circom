pragma circom 2.0.0;

include "circomlib/circuits/poseidon.circom";

// Two public signals, in snarkjs order (outputs first, then public inputs):
//   [0] hash    = Poseidon(secret, nullifier)   (output)
//   [1] context = an arbitrary public value bound into the proof (input)
// `context` is squared into an unused signal so that it appears in a constraint;
// otherwise a proof would not bind it (the classic malleable-public-input pitfall).
template PoseidonPreimage() {
    signal input secret;
    signal input nullifier;
    signal input context;
    signal output hash;

    component h = Poseidon(2);
    h.inputs[0] <== secret;
    h.inputs[1] <== nullifier;
    hash <== h.out;

    signal context_squared;
    context_squared <== context * context;
}

component main {public [context]} = PoseidonPreimage();
