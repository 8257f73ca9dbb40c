// The final Groth16 pairing equation, for the last step of the expected-Status
// derivation. The linear combination of the public inputs is computed with our own
// BigInt arithmetic; only the pairing product itself is delegated to ffjavascript (the
// engine inside snarkjs), because writing a second optimal-ate pairing adds risk
// without adding independence where the C++ is most likely to differ: decoding.

import * as snarkjs from "snarkjs";
import { G1 } from "./bn254.mjs";
import { parse_g1_json, parse_g2_json } from "./encoding.mjs";

export async function make_pairing_checker() {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const g1 = (pt) => (pt.inf ? curve.G1.zeroAffine : curve.G1.fromObject([pt.x, pt.y, 1n]));
    const g2 = (pt) => curve.G2.fromObject([pt.x, pt.y, [1n, 0n]]);

    // e(-A, B) * e(vk_x, gamma) * e(C, delta) * e(alpha, beta) == 1, where
    // vk_x = IC[0] + sum_i inputs[i] * IC[i+1].
    async function pairing_ok(vk, { A, B, C }, inputs) {
        let vk_x = parse_g1_json(vk.IC[0]);
        inputs.forEach((s, i) => {
            vk_x = G1.add(vk_x, G1.mul(parse_g1_json(vk.IC[i + 1]), s));
        });
        return curve.pairingEq(
            g1(G1.neg(A)),
            g2(B),
            g1(vk_x),
            g2(parse_g2_json(vk.vk_gamma_2)),
            g1(C),
            g2(parse_g2_json(vk.vk_delta_2)),
            g1(parse_g1_json(vk.vk_alpha_1)),
            g2(parse_g2_json(vk.vk_beta_2)),
        );
    }

    return { curve, pairing_ok, terminate: () => curve.terminate() };
}
