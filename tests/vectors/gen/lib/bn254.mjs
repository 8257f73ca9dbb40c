// BN254 arithmetic in plain BigInt, written for this project from the curve's public
// constants. It is the second, independent implementation of the encoding rules in
// prompts/encoding.md: every expected Status in the Groth16 vectors is derived here,
// and the C++ library is checked against it. Speed is irrelevant (affine formulas,
// one inversion per group operation); clarity and exactness are the point.

export const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

// ---------------------------------------------------------------- Fq

export const mod = (a, m = P) => {
    const t = a % m;
    return t < 0n ? t + m : t;
};

export function inv(a, m = P) {
    // Extended Euclid; the callers never pass 0 (a zero denominator is handled by the
    // group law before it gets here).
    let [old_r, r] = [mod(a, m), m];
    let [old_s, s] = [1n, 0n];
    while (r !== 0n) {
        const q = old_r / r;
        [old_r, r] = [r, old_r - q * r];
        [old_s, s] = [s, old_s - q * s];
    }
    if (old_r !== 1n) throw new Error("inverse of a non-unit");
    return mod(old_s, m);
}

export function pow(a, e, m = P) {
    let result = 1n;
    let base = mod(a, m);
    while (e > 0n) {
        if (e & 1n) result = (result * base) % m;
        base = (base * base) % m;
        e >>= 1n;
    }
    return result;
}

// p = 3 (mod 4), so a square root, if any, is a^((p+1)/4); the result is squared back
// to tell squares from non-squares.
export function fq_sqrt(a) {
    const s = pow(a, (P + 1n) / 4n);
    return (s * s) % P === mod(a) ? s : null;
}

// ---------------------------------------------------------------- Fq2 = Fq[u]/(u^2+1)
// Elements are [c0, c1] meaning c0 + c1*u.

export const f2 = {
    zero: [0n, 0n],
    one: [1n, 0n],
    eq: (a, b) => a[0] === b[0] && a[1] === b[1],
    is_zero: (a) => a[0] === 0n && a[1] === 0n,
    add: (a, b) => [mod(a[0] + b[0]), mod(a[1] + b[1])],
    sub: (a, b) => [mod(a[0] - b[0]), mod(a[1] - b[1])],
    neg: (a) => [mod(-a[0]), mod(-a[1])],
    mul: (a, b) => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])],
    square: (a) => f2.mul(a, a),
    scale: (a, k) => [mod(a[0] * k), mod(a[1] * k)],
    inv: (a) => {
        const n = inv(mod(a[0] * a[0] + a[1] * a[1]));
        return [mod(a[0] * n), mod(-a[1] * n)];
    },
    // Square root via the norm: if x = x0 + x1*u squares to a = a0 + a1*u then
    // x0^2 = (a0 +- sqrt(a0^2 + a1^2)) / 2 and x1 = a1 / (2*x0). The a1 == 0 branch
    // covers x0 == 0 (a purely "imaginary" root). Every candidate is squared back.
    sqrt: (a) => {
        const [a0, a1] = a;
        let x;
        if (a1 === 0n) {
            const s = fq_sqrt(a0);
            x = s !== null ? [s, 0n] : [0n, fq_sqrt(mod(-a0))];
            if (x[1] === null) return null;
        } else {
            const n = fq_sqrt(mod(a0 * a0 + a1 * a1));
            if (n === null) return null;
            const half = inv(2n);
            let x0 = fq_sqrt(mod((a0 + n) * half));
            if (x0 === null) x0 = fq_sqrt(mod((a0 - n) * half));
            if (x0 === null || x0 === 0n) return null;
            x = [x0, mod(a1 * inv(2n * x0))];
        }
        return f2.eq(f2.square(x), a) ? x : null;
    },
};

// sgn0 for Fq2 per RFC 9380 section 4.1 (the G2 y_sign rule of encoding.md).
export const f2_sgn0 = (y) => (y[0] & 1n) === 1n || (y[0] === 0n && (y[1] & 1n) === 1n);

// ---------------------------------------------------------------- curves
// Points are affine objects {x, y} or the constant INF. A "field" adaptor lets one
// implementation of the group law serve both G1 (over Fq) and G2 (over Fq2).

export const INF = Object.freeze({ inf: true });

const fq_ops = {
    zero: 0n,
    one: 1n,
    eq: (a, b) => a === b,
    is_zero: (a) => a === 0n,
    add: (a, b) => mod(a + b),
    sub: (a, b) => mod(a - b),
    neg: (a) => mod(-a),
    mul: (a, b) => mod(a * b),
    square: (a) => mod(a * a),
    scale: (a, k) => mod(a * k),
    inv: (a) => inv(a),
    sqrt: (a) => fq_sqrt(a),
};

// b' = 3 / (9 + u), the coefficient of the sextic D-twist that carries G2.
export const B2 = f2.mul([3n, 0n], f2.inv([9n, 1n]));

function make_curve(F, b, name) {
    const on_curve = (pt) =>
        pt.inf === true || F.eq(F.square(pt.y), F.add(F.mul(F.square(pt.x), pt.x), b));
    const neg = (pt) => (pt.inf ? INF : { x: pt.x, y: F.neg(pt.y) });
    const add = (p1, p2) => {
        if (p1.inf) return p2;
        if (p2.inf) return p1;
        let lambda;
        if (F.eq(p1.x, p2.x)) {
            if (!F.eq(p1.y, p2.y) || F.is_zero(p1.y)) return INF;
            lambda = F.mul(F.scale(F.square(p1.x), 3n), F.inv(F.scale(p1.y, 2n)));
        } else {
            lambda = F.mul(F.sub(p2.y, p1.y), F.inv(F.sub(p2.x, p1.x)));
        }
        const x3 = F.sub(F.sub(F.square(lambda), p1.x), p2.x);
        const y3 = F.sub(F.mul(lambda, F.sub(p1.x, x3)), p1.y);
        return { x: x3, y: y3 };
    };
    // Scalar multiplication runs in Jacobian coordinates (X/Z^2, Y/Z^3) so that it needs
    // one inversion instead of one per step; the affine `add` above stays the reference
    // group law, and the module checks the two against each other when it loads.
    const J_INF = null;
    const j_double = (p1) => {
        if (p1 === J_INF || F.is_zero(p1.Y)) return J_INF;
        const a = F.square(p1.X);
        const b2 = F.square(p1.Y);
        const c = F.square(b2);
        const d = F.scale(F.sub(F.sub(F.square(F.add(p1.X, b2)), a), c), 2n);
        const e = F.scale(a, 3n);
        const x3 = F.sub(F.square(e), F.scale(d, 2n));
        return {
            X: x3,
            Y: F.sub(F.mul(e, F.sub(d, x3)), F.scale(c, 8n)),
            Z: F.scale(F.mul(p1.Y, p1.Z), 2n),
        };
    };
    const j_add = (p1, p2) => {
        if (p1 === J_INF) return p2;
        if (p2 === J_INF) return p1;
        const z1z1 = F.square(p1.Z);
        const z2z2 = F.square(p2.Z);
        const u1 = F.mul(p1.X, z2z2);
        const u2 = F.mul(p2.X, z1z1);
        const s1 = F.mul(F.mul(p1.Y, p2.Z), z2z2);
        const s2 = F.mul(F.mul(p2.Y, p1.Z), z1z1);
        if (F.eq(u1, u2)) return F.eq(s1, s2) ? j_double(p1) : J_INF;
        const h = F.sub(u2, u1);
        const r = F.sub(s2, s1);
        const hh = F.square(h);
        const hhh = F.mul(h, hh);
        const v = F.mul(u1, hh);
        const x3 = F.sub(F.sub(F.square(r), hhh), F.scale(v, 2n));
        const y3 = F.sub(F.mul(r, F.sub(v, x3)), F.mul(s1, hhh));
        return { X: x3, Y: y3, Z: F.mul(F.mul(h, p1.Z), p2.Z) };
    };
    const mul = (pt, k) => {
        if (pt.inf) return INF;
        let acc = J_INF;
        let base = { X: pt.x, Y: pt.y, Z: F.one };
        for (let e = k; e > 0n; e >>= 1n) {
            if (e & 1n) acc = j_add(acc, base);
            base = j_double(base);
        }
        if (acc === J_INF) return INF;
        const zi = F.inv(acc.Z);
        const zi2 = F.square(zi);
        return { x: F.mul(acc.X, zi2), y: F.mul(F.mul(acc.Y, zi2), zi) };
    };
    // Solve y^2 = x^3 + b; null when the right-hand side is not a square.
    const y_for_x = (x) => F.sqrt(F.add(F.mul(F.square(x), x), b));
    const in_subgroup = (pt) => mul(pt, R).inf === true;
    const eq = (p1, p2) =>
        (p1.inf && p2.inf) || (!p1.inf && !p2.inf && F.eq(p1.x, p2.x) && F.eq(p1.y, p2.y));
    return { name, F, b, on_curve, neg, add, mul, y_for_x, in_subgroup, eq };
}

export const G1 = make_curve(fq_ops, 3n, "G1");
export const G2 = make_curve(f2, B2, "G2");

export const G1_GEN = { x: 1n, y: 2n };
export const G2_GEN = {
    x: [
        10857046999023057135944570762232829481370756359578518086990519993285655852781n,
        11559732032986387107991004021392285783925812861821192530917403151452391805634n,
    ],
    y: [
        8495653923123431417604973247489272438418190587263600148770280649306958101930n,
        4082367875863433681332203403145435568316851327593401208105741076214120093531n,
    ],
};

// Sanity of the constants above; a typo here would silently corrupt every vector.
if (
    !G1.on_curve(G1_GEN) ||
    !G2.on_curve(G2_GEN) ||
    !G2.in_subgroup(G2_GEN) ||
    !G1.in_subgroup(G1_GEN)
) {
    throw new Error("BN254 constants are inconsistent");
}

// Jacobian scalar multiplication against repeated affine addition, including the
// doubling (k = 2) and cancellation (k = r +- 1) paths.
for (const [curve, gen] of [
    [G1, G1_GEN],
    [G2, G2_GEN],
]) {
    let acc = INF;
    for (let k = 1n; k <= 9n; k++) {
        acc = curve.add(acc, gen);
        if (!curve.eq(curve.mul(gen, k), acc))
            throw new Error(`${curve.name} mul disagrees with add`);
    }
    if (
        !curve.eq(curve.mul(gen, R + 1n), gen) ||
        !curve.eq(curve.mul(gen, R - 1n), curve.neg(gen))
    ) {
        throw new Error(`${curve.name} mul is wrong at the group order`);
    }
}
