pragma circom 2.0.0;

// One public signal: the product c = a * b of two private factors. Both factors
// are constrained to be != 1 so that the trivial witness (1, c) is not accepted;
// the circuit exists to exercise a verification key with a single IC term.
template Multiplier() {
    signal input a;
    signal input b;
    signal output c;

    signal inv_a_minus_1;
    signal inv_b_minus_1;
    inv_a_minus_1 <-- 1 / (a - 1);
    inv_b_minus_1 <-- 1 / (b - 1);
    inv_a_minus_1 * (a - 1) === 1;
    inv_b_minus_1 * (b - 1) === 1;

    c <== a * b;
}

component main = Multiplier();
