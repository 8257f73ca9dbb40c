#include "libverify/pairing.hpp"

namespace libverify {

namespace {

// Signed binary digits of 6x + 2, least significant first (NAF).
constexpr int8_t kLoopNaf[66] = {0,  0, 0, 1, 0, 1, 0,  -1, 0, 0, -1, 0,  0, 0, 1,  0, 0,
                                 -1, 0, -1, 0, 0, 0, 1,  0, -1, 0, 0, 0,  0, -1, 0, 0, 1,
                                 0,  -1, 0, 0, 1, 0, 0,  0, 0, 0, -1, 0, 0, -1, 0, 1, 0,
                                 -1, 0, 0, 0, -1, 0, -1, 0, 0, 0, 1, 0, -1, 0, 1};
constexpr int kLoopTop = 64;  // index of the first digit after the leading 1

constexpr int kXWindow = 4;

struct G2Projective {
    Fq2 x;
    Fq2 y;
    Fq2 z;
};

const Fq2& three_b() {
    static const Fq2 kThreeB = G2Curve::b().dbl() + G2Curve::b();
    return kThreeB;
}

// Tangent at T (homogeneous projective, D-type twist), and T <- 2T.
// Costello-Lange-Naehrig / Aranha et al. formulas, with the new point scaled
// by 4 (the same projective point) so that no halving is needed.
void doubling_step(G2Projective& t, LineCoeffs& line) {
    Fq2 xy = t.x * t.y;
    Fq2 b = t.y.square();
    Fq2 c = t.z.square();
    Fq2 e = three_b() * c;
    Fq2 f = e.dbl() + e;
    Fq2 h = (t.y + t.z).square() - (b + c);
    Fq2 x_sq = t.x.square();
    Fq2 e_sq = e.square();
    line.a = -h;
    line.b = x_sq.dbl() + x_sq;
    line.c = e - b;
    t.x = (xy * (b - f)).dbl();
    t.y = (b + f).square() - (e_sq.dbl() + e_sq).dbl().dbl();
    t.z = (b * h).dbl().dbl();
}

// Chord through T and affine Q, and T <- T + Q.
void addition_step(G2Projective& t, const G2Affine& q, LineCoeffs& line) {
    Fq2 theta = t.y - q.y * t.z;
    Fq2 lambda = t.x - q.x * t.z;
    Fq2 c = theta.square();
    Fq2 d = lambda.square();
    Fq2 e = lambda * d;
    Fq2 f = t.z * c;
    Fq2 g = t.x * d;
    Fq2 h = e + f - g.dbl();
    line.a = lambda;
    line.b = -theta;
    line.c = theta * q.x - lambda * q.y;
    t.x = lambda * h;
    t.y = theta * (g - h) - t.y * e;
    t.z = t.z * e;
}

// pi(Q) and pi^2(Q) on the twist.
G2Affine frobenius_twist(const G2Affine& q) {
    using tower_constants::kGamma1;
    return G2Affine::from_xy(q.x.conj() * kGamma1[2], q.y.conj() * kGamma1[3]);
}

G2Affine frobenius2_twist(const G2Affine& q) {
    using tower_constants::kGamma2;
    return G2Affine::from_xy(q.x.mul_fq(kGamma2[2]), q.y.mul_fq(kGamma2[3]));
}

// Runs the line schedule of the loop for one G2 point, calling emit(line)
// for each line in the order the Miller loop consumes them.
template <class Emit>
void for_each_line(const G2Affine& q, Emit&& emit) {
    G2Projective t{q.x, q.y, Fq2::one()};
    G2Affine neg_q = q.neg();
    LineCoeffs line;
    for (int i = kLoopTop; i >= 0; --i) {
        doubling_step(t, line);
        emit(line);
        if (kLoopNaf[i] == 1) {
            addition_step(t, q, line);
            emit(line);
        } else if (kLoopNaf[i] == -1) {
            addition_step(t, neg_q, line);
            emit(line);
        }
    }
    addition_step(t, frobenius_twist(q), line);
    emit(line);
    addition_step(t, frobenius2_twist(q).neg(), line);
    emit(line);
}

inline Fq12 mul_by_line_at(const Fq12& f, const LineCoeffs& l, const G1Affine& p) {
    return f.mul_by_line(l.a.mul_fq(p.y), l.b.mul_fq(p.x), l.c);
}

// Replaces every element by its inverse with a single inversion (Montgomery's
// trick); the elements must be nonzero.
template <class F>
void batch_invert_vartime(std::vector<F>& xs) {
    std::vector<F> prefix(xs.size());
    F acc = F::one();
    for (size_t i = 0; i < xs.size(); ++i) {
        prefix[i] = acc;
        acc = acc * xs[i];
    }
    F inv = acc.inverse_vartime();
    for (size_t i = xs.size(); i-- > 0;) {
        F xi_inv = inv * prefix[i];
        inv = inv * xs[i];
        xs[i] = xi_inv;
    }
}

// f^x for unitary f, where the inverse is the conjugate. The width-4 NAF of x
// has 14 nonzero digits in {+-1, +-3, +-5, +-7}, against 24 in the plain NAF.
Fq12 exp_by_x(const Fq12& f) {
    static const std::vector<int8_t> digits = wnaf_digits(Limbs{kBn254X, 0, 0, 0}, kXWindow);
    constexpr int kOdd = 1 << (kXWindow - 2);
    Fq12 odd[kOdd];  // f, f^3, f^5, f^7
    Fq12 odd_inv[kOdd];
    odd[0] = f;
    const Fq12 f2 = f.cyclotomic_square();
    for (int i = 1; i < kOdd; ++i) {
        odd[i] = odd[i - 1] * f2;
    }
    for (int i = 0; i < kOdd; ++i) {
        odd_inv[i] = odd[i].conj();
    }
    size_t i = digits.size() - 1;
    Fq12 acc = odd[digits[i] / 2];  // x > 0, so its leading digit is positive
    while (i-- > 0) {
        acc = acc.cyclotomic_square();
        int d = digits[i];
        if (d > 0) {
            acc = acc * odd[d / 2];
        } else if (d < 0) {
            acc = acc * odd_inv[-d / 2];
        }
    }
    return acc;
}

}  // namespace

G2Prepared::G2Prepared(const G2Affine& q) {
    if (q.infinity) {
        return;
    }
    std::vector<LineCoeffs> lines;
    lines.reserve(90);
    for_each_line(q, [&lines](const LineCoeffs& l) { lines.push_back(l); });
    std::vector<Fq2> a_inv(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
        a_inv[i] = lines[i].a;
    }
    batch_invert_vartime(a_inv);
    lines_.resize(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
        lines_[i] = NormalisedLine{lines[i].b * a_inv[i], lines[i].c * a_inv[i]};
    }
}

Fq12 multi_miller_loop(const G1Affine* p_prep, const G2Prepared* const* q_prep, size_t n_prep,
                       const G1Affine* p_var, const G2Affine* q_var, size_t n_var) {
    struct PrepState {
        const G2Prepared* q;
        Fq x_over_y;
        Fq y_inv;
    };
    std::vector<PrepState> preps;
    std::vector<Fq> y_inv;
    preps.reserve(n_prep);
    y_inv.reserve(n_prep);
    for (size_t j = 0; j < n_prep; ++j) {
        if (!p_prep[j].infinity && !q_prep[j]->is_identity()) {
            preps.push_back(PrepState{q_prep[j], p_prep[j].x, Fq::zero()});
            y_inv.push_back(p_prep[j].y);  // nonzero: G1 has no point of order 2
        }
    }
    batch_invert_vartime(y_inv);
    for (size_t k = 0; k < preps.size(); ++k) {
        preps[k].x_over_y = preps[k].x_over_y * y_inv[k];
        preps[k].y_inv = y_inv[k];
    }
    struct VarState {
        G2Projective t;
        G2Affine q;
        G2Affine neg_q;
        const G1Affine* p;
    };
    std::vector<VarState> vars;
    vars.reserve(n_var);
    for (size_t j = 0; j < n_var; ++j) {
        if (!p_var[j].infinity && !q_var[j].infinity) {
            vars.push_back(VarState{G2Projective{q_var[j].x, q_var[j].y, Fq2::one()}, q_var[j],
                                    q_var[j].neg(), &p_var[j]});
        }
    }

    Fq12 f = Fq12::one();
    size_t cursor = 0;  // position in every prepared line list
    LineCoeffs line;
    auto consume_prepared = [&]() {
        for (const PrepState& s : preps) {
            const NormalisedLine& l = s.q->lines()[cursor];
            f = f.mul_by_normalised_line(l.b.mul_fq(s.x_over_y), l.c.mul_fq(s.y_inv));
        }
        ++cursor;
    };
    for (int i = kLoopTop; i >= 0; --i) {
        if (i != kLoopTop) {
            f = f.square();
        }
        consume_prepared();
        for (auto& v : vars) {
            doubling_step(v.t, line);
            f = mul_by_line_at(f, line, *v.p);
        }
        if (kLoopNaf[i] != 0) {
            consume_prepared();
            for (auto& v : vars) {
                addition_step(v.t, kLoopNaf[i] == 1 ? v.q : v.neg_q, line);
                f = mul_by_line_at(f, line, *v.p);
            }
        }
    }
    consume_prepared();
    consume_prepared();
    for (auto& v : vars) {
        addition_step(v.t, frobenius_twist(v.q), line);
        f = mul_by_line_at(f, line, *v.p);
        addition_step(v.t, frobenius2_twist(v.q).neg(), line);
        f = mul_by_line_at(f, line, *v.p);
    }
    return f;
}

Fq12 final_exponentiation(const Fq12& f) {
    // Easy part: f^((p^6 - 1)(p^2 + 1)); the result is unitary.
    Fq12 t = f.conj() * f.inverse_vartime();
    Fq12 m = t.frobenius(2) * t;

    // Hard part: m^((p^4 - p^2 + 1) / r).
    Fq12 fx = exp_by_x(m);
    Fq12 fx2 = exp_by_x(fx);
    Fq12 fx3 = exp_by_x(fx2);
    Fq12 y0 = m.frobenius(1) * m.frobenius(2) * m.frobenius(3);
    Fq12 y1 = m.conj();
    Fq12 y2 = fx2.frobenius(2);
    Fq12 y3 = fx.frobenius(1).conj();
    Fq12 y4 = (fx * fx2.frobenius(1)).conj();
    Fq12 y5 = fx2.conj();
    Fq12 y6 = (fx3 * fx3.frobenius(1)).conj();

    Fq12 t0 = y6.cyclotomic_square() * y4 * y5;
    Fq12 t1 = y3 * y5 * t0;
    t0 = t0 * y2;
    t1 = (t1.cyclotomic_square() * t0).cyclotomic_square();
    t0 = t1 * y1;
    t1 = t1 * y0;
    t0 = t0.cyclotomic_square();
    return t0 * t1;
}

Fq12 pairing(const G1Affine& p, const G2Affine& q) {
    return final_exponentiation(multi_miller_loop(nullptr, nullptr, 0, &p, &q, 1));
}

bool pairing_product_is_one(const G1Affine* ps, const G2Affine* qs, size_t n) {
    return final_exponentiation(multi_miller_loop(nullptr, nullptr, 0, ps, qs, n)).is_one();
}

}  // namespace libverify
