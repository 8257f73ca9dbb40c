#pragma once
// Prime fields below 2^254 in Montgomery form with four 64-bit limbs.
//
// Every operation here runs in constant time unless its name ends in
// _vartime: the same field type carries secrets (EdDSA scalars, the RLN key)
// and public data (proof coordinates), so branch-free is the default.

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace libverify {

// Little-endian 64-bit limbs of a 256-bit unsigned integer.
using Limbs = std::array<uint64_t, 4>;

// Forced inlining of the base-field operations roughly halves pairing time;
// under sanitizers it only makes compilation very slow, so it is dropped.
#if defined(__SANITIZE_ADDRESS__)
#define LIBVERIFY_INLINE inline
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIBVERIFY_INLINE inline
#endif
#endif
#ifndef LIBVERIFY_INLINE
#define LIBVERIFY_INLINE inline __attribute__((always_inline))
#endif

namespace detail {

using u128 = unsigned __int128;

// Keeps the compiler from turning mask arithmetic back into branches.
// Logical and/or of flags without short-circuit branches.
inline bool ct_and(bool a, bool b) {
    return (static_cast<unsigned>(a) & static_cast<unsigned>(b)) != 0;
}
inline bool ct_or(bool a, bool b) {
    return (static_cast<unsigned>(a) | static_cast<unsigned>(b)) != 0;
}

inline uint64_t launder(uint64_t x) {
    __asm__ __volatile__("" : "+r"(x));
    return x;
}

// One limb of a carry (borrow) chain; the carry is 0 or 1. GCC turns the
// portable 128-bit form into long dependency chains of shifts and masks, so
// x86-64 uses the adc/sbb intrinsics, which are baseline instructions.
LIBVERIFY_INLINE uint64_t add_carry(uint64_t a, uint64_t b, uint64_t& carry) {
#if defined(__x86_64__)
    unsigned long long sum;
    carry = _addcarry_u64(static_cast<unsigned char>(carry), a, b, &sum);
    return sum;
#else
    u128 s = static_cast<u128>(a) + b + carry;
    carry = static_cast<uint64_t>(s >> 64);
    return static_cast<uint64_t>(s);
#endif
}

LIBVERIFY_INLINE uint64_t sub_borrow(uint64_t a, uint64_t b, uint64_t& borrow) {
#if defined(__x86_64__)
    unsigned long long diff;
    borrow = _subborrow_u64(static_cast<unsigned char>(borrow), a, b, &diff);
    return diff;
#else
    u128 d = static_cast<u128>(a) - b - borrow;
    borrow = static_cast<uint64_t>(d >> 64) & 1;
    return static_cast<uint64_t>(d);
#endif
}

// The mulx path needs more registers than an unoptimised (-O0) sanitizer
// build leaves free, so such builds take the portable path.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__OPTIMIZE__)
#define LIBVERIFY_HAVE_MULX_ASM 1
// Whether this CPU has BMI2 (mulx) and ADX (adcx/adox); checked once at load.
inline const bool kCpuHasMulxAdx = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0, nullptr) < 7) {
        return false;
    }
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    return (ebx & (1u << 8)) != 0 && (ebx & (1u << 19)) != 0;  // BMI2, ADX
}();

// The full 512-bit product a * b (4 x 4 limbs), row by row: each row adds
// b[i] * a into a five-limb window with two carry chains (adox for the low
// halves of the limb products, adcx for the high halves). The top limb of a
// row cannot overflow: after row i the sum is below 2^(64 (i + 5)).
// Constant time.
LIBVERIFY_INLINE void mul_wide_mulx(uint64_t out[8], const uint64_t a[4], const uint64_t b[4]) {
    uint64_t r0, r1, r2, r3, r4, lo, hi;
    __asm__(
        "movq 0(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[r0], %[r1]\n\t"
        "movq %[r0], 0(%[out])\n\t"
        "mulxq 8(%[a]), %[lo], %[r2]\n\t"
        "addq %[lo], %[r1]\n\t"
        "mulxq 16(%[a]), %[lo], %[r3]\n\t"
        "adcq %[lo], %[r2]\n\t"
        "mulxq 24(%[a]), %[lo], %[r4]\n\t"
        "adcq %[lo], %[r3]\n\t"
        "adcq $0, %[r4]\n\t"

        "xorl %%eax, %%eax\n\t"
        "movq 8(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r1]\n\t"
        "adcxq %[hi], %[r2]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r2]\n\t"
        "adcxq %[hi], %[r3]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r3]\n\t"
        "adcxq %[hi], %[r4]\n\t"
        "mulxq 24(%[a]), %[lo], %[r0]\n\t"
        "adoxq %[lo], %[r4]\n\t"
        "adcxq %%rax, %[r0]\n\t"
        "adoxq %%rax, %[r0]\n\t"
        "movq %[r1], 8(%[out])\n\t"

        "xorl %%eax, %%eax\n\t"
        "movq 16(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r2]\n\t"
        "adcxq %[hi], %[r3]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r3]\n\t"
        "adcxq %[hi], %[r4]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r4]\n\t"
        "adcxq %[hi], %[r0]\n\t"
        "mulxq 24(%[a]), %[lo], %[r1]\n\t"
        "adoxq %[lo], %[r0]\n\t"
        "adcxq %%rax, %[r1]\n\t"
        "adoxq %%rax, %[r1]\n\t"
        "movq %[r2], 16(%[out])\n\t"

        "xorl %%eax, %%eax\n\t"
        "movq 24(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r3]\n\t"
        "adcxq %[hi], %[r4]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r4]\n\t"
        "adcxq %[hi], %[r0]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adoxq %[lo], %[r0]\n\t"
        "adcxq %[hi], %[r1]\n\t"
        "mulxq 24(%[a]), %[lo], %[r2]\n\t"
        "adoxq %[lo], %[r1]\n\t"
        "adcxq %%rax, %[r2]\n\t"
        "adoxq %%rax, %[r2]\n\t"
        "movq %[r3], 24(%[out])\n\t"
        "movq %[r4], 32(%[out])\n\t"
        "movq %[r0], 40(%[out])\n\t"
        "movq %[r1], 48(%[out])\n\t"
        "movq %[r2], 56(%[out])\n\t"
        : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4),
          [lo] "=&r"(lo), [hi] "=&r"(hi), "=m"(*reinterpret_cast<uint64_t(*)[8]>(out))
        : [a] "r"(a), [b] "r"(b), [out] "r"(out),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(b))
        : "rax", "rdx", "cc");
}

// One row of redc_mulx: clears limb W0 of the window W0..W3 and leaves the
// window shifted down one limb in W1, W2, W3, W0.
#define LIBVERIFY_REDC_ROW(W0, W1, W2, W3)          \
    "movq %[" W0 "], %%rdx\n\t"                 \
    "imulq 32(%[m]), %%rdx\n\t"                 \
    "xorl %%eax, %%eax\n\t"                     \
    "mulxq 0(%[m]), %[lo], %[hi]\n\t"           \
    "adcxq %[" W0 "], %[lo]\n\t"                \
    "adoxq %[hi], %[" W1 "]\n\t"                \
    "mulxq 8(%[m]), %[lo], %[hi]\n\t"           \
    "adcxq %[lo], %[" W1 "]\n\t"                \
    "adoxq %[hi], %[" W2 "]\n\t"                \
    "mulxq 16(%[m]), %[lo], %[hi]\n\t"          \
    "adcxq %[lo], %[" W2 "]\n\t"                \
    "adoxq %[hi], %[" W3 "]\n\t"                \
    "mulxq 24(%[m]), %[lo], %[" W0 "]\n\t"      \
    "adcxq %[lo], %[" W3 "]\n\t"                \
    "adoxq %%rax, %[" W0 "]\n\t"                \
    "adcxq %%rax, %[" W0 "]\n\t"

// Montgomery reduction of a 512-bit t below m * 2^256 to t / 2^256 mod m,
// fully reduced (below m); m points at the modulus limbs followed by
// -m^-1 mod 2^64. Writing t = h 2^256 + l, the result is h + REDC(l): four
// rows clear the low half l (each row adds k * m for the k that zeroes the
// lowest limb and shifts by one limb; the window stays below 2^192 + m and
// ends at most m), the high half h < m is added, and one branch-free
// subtraction (cmov) brings the sum, below 2m, under m. Constant time.
LIBVERIFY_INLINE void redc_mulx(uint64_t out[4], const uint64_t t[8], const uint64_t m[5]) {
    uint64_t w0, w1, w2, w3, lo, hi;
    __asm__(
        "movq 0(%[t]), %[w0]\n\t"
        "movq 8(%[t]), %[w1]\n\t"
        "movq 16(%[t]), %[w2]\n\t"
        "movq 24(%[t]), %[w3]\n\t"
        LIBVERIFY_REDC_ROW("w0", "w1", "w2", "w3")
        LIBVERIFY_REDC_ROW("w1", "w2", "w3", "w0")
        LIBVERIFY_REDC_ROW("w2", "w3", "w0", "w1")
        LIBVERIFY_REDC_ROW("w3", "w0", "w1", "w2")
        "addq 32(%[t]), %[w0]\n\t"
        "adcq 40(%[t]), %[w1]\n\t"
        "adcq 48(%[t]), %[w2]\n\t"
        "adcq 56(%[t]), %[w3]\n\t"
        "movq %[w0], %[lo]\n\t"
        "subq 0(%[m]), %[lo]\n\t"
        "movq %[w1], %[hi]\n\t"
        "sbbq 8(%[m]), %[hi]\n\t"
        "movq %[w2], %%rax\n\t"
        "sbbq 16(%[m]), %%rax\n\t"
        "movq %[w3], %%rdx\n\t"
        "sbbq 24(%[m]), %%rdx\n\t"
        "cmovncq %[lo], %[w0]\n\t"
        "cmovncq %[hi], %[w1]\n\t"
        "cmovncq %%rax, %[w2]\n\t"
        "cmovncq %%rdx, %[w3]\n\t"
        : [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3), [lo] "=&r"(lo),
          [hi] "=&r"(hi)
        : [t] "r"(t), [m] "r"(m), "m"(*reinterpret_cast<const uint64_t(*)[8]>(t)),
          "m"(*reinterpret_cast<const uint64_t(*)[5]>(m))
        : "rax", "rdx", "cc");
    out[0] = w0;
    out[1] = w1;
    out[2] = w2;
    out[3] = w3;
}
#undef LIBVERIFY_REDC_ROW
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__OPTIMIZE__)
// Modular addition and subtraction as single adc/sbb chains with a cmov
// select: GCC compiles the _addcarry_u64 forms above into a store and reload
// of every limb, which made an addition cost a sixth of a multiplication.
// Only baseline x86-64 instructions, so no CPU check. Constant time.
#define LIBVERIFY_HAVE_ADD_ASM 1

// a + b mod m for a, b < m < 2^255: the sum has no carry out; m is
// subtracted when that does not borrow.
LIBVERIFY_INLINE void add_mod_asm(uint64_t out[4], const uint64_t a[4], const uint64_t b[4],
                                  const uint64_t m[4]) {
    uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], t0, t1, t2, t3;
    __asm__(
        "addq %[b0], %[r0]\n\t"
        "adcq %[b1], %[r1]\n\t"
        "adcq %[b2], %[r2]\n\t"
        "adcq %[b3], %[r3]\n\t"
        "movq %[r0], %[t0]\n\t"
        "subq 0(%[m]), %[t0]\n\t"
        "movq %[r1], %[t1]\n\t"
        "sbbq 8(%[m]), %[t1]\n\t"
        "movq %[r2], %[t2]\n\t"
        "sbbq 16(%[m]), %[t2]\n\t"
        "movq %[r3], %[t3]\n\t"
        "sbbq 24(%[m]), %[t3]\n\t"
        "cmovncq %[t0], %[r0]\n\t"
        "cmovncq %[t1], %[r1]\n\t"
        "cmovncq %[t2], %[r2]\n\t"
        "cmovncq %[t3], %[r3]\n\t"
        : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [t0] "=&r"(t0),
          [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
        : [b0] "rm"(b[0]), [b1] "rm"(b[1]), [b2] "rm"(b[2]), [b3] "rm"(b[3]), [m] "r"(m),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(m))
        : "cc");
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
}

// a - b mod m for a, b < m: m is added back (selected by cmov from zero)
// when the subtraction borrows.
LIBVERIFY_INLINE void sub_mod_asm(uint64_t out[4], const uint64_t a[4], const uint64_t b[4],
                                  const uint64_t m[4]) {
    uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], t0, t1, t2, t3;
    __asm__(
        "xorl %k[t0], %k[t0]\n\t"
        "xorl %k[t1], %k[t1]\n\t"
        "xorl %k[t2], %k[t2]\n\t"
        "xorl %k[t3], %k[t3]\n\t"
        "subq %[b0], %[r0]\n\t"
        "sbbq %[b1], %[r1]\n\t"
        "sbbq %[b2], %[r2]\n\t"
        "sbbq %[b3], %[r3]\n\t"
        "cmovcq 0(%[m]), %[t0]\n\t"
        "cmovcq 8(%[m]), %[t1]\n\t"
        "cmovcq 16(%[m]), %[t2]\n\t"
        "cmovcq 24(%[m]), %[t3]\n\t"
        "addq %[t0], %[r0]\n\t"
        "adcq %[t1], %[r1]\n\t"
        "adcq %[t2], %[r2]\n\t"
        "adcq %[t3], %[r3]\n\t"
        : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [t0] "=&r"(t0),
          [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)
        : [b0] "rm"(b[0]), [b1] "rm"(b[1]), [b2] "rm"(b[2]), [b3] "rm"(b[3]), [m] "r"(m),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(m))
        : "cc");
    out[0] = r0;
    out[1] = r1;
    out[2] = r2;
    out[3] = r3;
}

// The double-width forms (see FieldWide): a + b mod N and a - b mod N for
// a, b < N = m 2^256; the correction by N touches only the high half. The
// low half streams through one register (mov leaves the carry flag alone);
// the high half's uncorrected value is parked in out and the corrected one
// computed in place, the choice made by cmov from memory. Nine registers in
// all, which sanitizer builds (clang's with libFuzzer included) can spare;
// in the Fq6 product this measured faster than holding all eight limbs in
// registers. out must not overlap a or b.
LIBVERIFY_INLINE void add_mod_wide_asm(uint64_t out[8], const uint64_t a[8],
                                       const uint64_t b[8], const uint64_t m[4]) {
    uint64_t r4, r5, r6, r7, t0;
    __asm__(
        "movq 0(%[a]), %[t0]\n\t"
        "addq 0(%[b]), %[t0]\n\t"
        "movq %[t0], 0(%[out])\n\t"
        "movq 8(%[a]), %[t0]\n\t"
        "adcq 8(%[b]), %[t0]\n\t"
        "movq %[t0], 8(%[out])\n\t"
        "movq 16(%[a]), %[t0]\n\t"
        "adcq 16(%[b]), %[t0]\n\t"
        "movq %[t0], 16(%[out])\n\t"
        "movq 24(%[a]), %[t0]\n\t"
        "adcq 24(%[b]), %[t0]\n\t"
        "movq %[t0], 24(%[out])\n\t"
        "movq 32(%[a]), %[r4]\n\t"
        "adcq 32(%[b]), %[r4]\n\t"
        "movq 40(%[a]), %[r5]\n\t"
        "adcq 40(%[b]), %[r5]\n\t"
        "movq 48(%[a]), %[r6]\n\t"
        "adcq 48(%[b]), %[r6]\n\t"
        "movq 56(%[a]), %[r7]\n\t"
        "adcq 56(%[b]), %[r7]\n\t"
        "movq %[r4], 32(%[out])\n\t"
        "movq %[r5], 40(%[out])\n\t"
        "movq %[r6], 48(%[out])\n\t"
        "movq %[r7], 56(%[out])\n\t"
        "subq 0(%[m]), %[r4]\n\t"
        "sbbq 8(%[m]), %[r5]\n\t"
        "sbbq 16(%[m]), %[r6]\n\t"
        "sbbq 24(%[m]), %[r7]\n\t"
        "cmovcq 32(%[out]), %[r4]\n\t"
        "cmovcq 40(%[out]), %[r5]\n\t"
        "cmovcq 48(%[out]), %[r6]\n\t"
        "cmovcq 56(%[out]), %[r7]\n\t"
        "movq %[r4], 32(%[out])\n\t"
        "movq %[r5], 40(%[out])\n\t"
        "movq %[r6], 48(%[out])\n\t"
        "movq %[r7], 56(%[out])\n\t"
        : [r4] "=&r"(r4), [r5] "=&r"(r5), [r6] "=&r"(r6), [r7] "=&r"(r7), [t0] "=&r"(t0),
          "=m"(*reinterpret_cast<uint64_t(*)[8]>(out))
        : [a] "r"(a), [b] "r"(b), [m] "r"(m), [out] "r"(out),
          "m"(*reinterpret_cast<const uint64_t(*)[8]>(a)),
          "m"(*reinterpret_cast<const uint64_t(*)[8]>(b)),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(m))
        : "cc");
}

LIBVERIFY_INLINE void sub_mod_wide_asm(uint64_t out[8], const uint64_t a[8],
                                       const uint64_t b[8], const uint64_t m[4]) {
    uint64_t r4, r5, r6, r7, t0;
    __asm__(
        "movq 0(%[a]), %[t0]\n\t"
        "subq 0(%[b]), %[t0]\n\t"
        "movq %[t0], 0(%[out])\n\t"
        "movq 8(%[a]), %[t0]\n\t"
        "sbbq 8(%[b]), %[t0]\n\t"
        "movq %[t0], 8(%[out])\n\t"
        "movq 16(%[a]), %[t0]\n\t"
        "sbbq 16(%[b]), %[t0]\n\t"
        "movq %[t0], 16(%[out])\n\t"
        "movq 24(%[a]), %[t0]\n\t"
        "sbbq 24(%[b]), %[t0]\n\t"
        "movq %[t0], 24(%[out])\n\t"
        "movq 32(%[a]), %[r4]\n\t"
        "sbbq 32(%[b]), %[r4]\n\t"
        "movq 40(%[a]), %[r5]\n\t"
        "sbbq 40(%[b]), %[r5]\n\t"
        "movq 48(%[a]), %[r6]\n\t"
        "sbbq 48(%[b]), %[r6]\n\t"
        "movq 56(%[a]), %[r7]\n\t"
        "sbbq 56(%[b]), %[r7]\n\t"
        "sbbq %[t0], %[t0]\n\t"
        "movq %[r4], 32(%[out])\n\t"
        "movq %[r5], 40(%[out])\n\t"
        "movq %[r6], 48(%[out])\n\t"
        "movq %[r7], 56(%[out])\n\t"
        "addq 0(%[m]), %[r4]\n\t"
        "adcq 8(%[m]), %[r5]\n\t"
        "adcq 16(%[m]), %[r6]\n\t"
        "adcq 24(%[m]), %[r7]\n\t"
        "testq %[t0], %[t0]\n\t"
        "cmovzq 32(%[out]), %[r4]\n\t"
        "cmovzq 40(%[out]), %[r5]\n\t"
        "cmovzq 48(%[out]), %[r6]\n\t"
        "cmovzq 56(%[out]), %[r7]\n\t"
        "movq %[r4], 32(%[out])\n\t"
        "movq %[r5], 40(%[out])\n\t"
        "movq %[r6], 48(%[out])\n\t"
        "movq %[r7], 56(%[out])\n\t"
        : [r4] "=&r"(r4), [r5] "=&r"(r5), [r6] "=&r"(r6), [r7] "=&r"(r7), [t0] "=&r"(t0),
          "=m"(*reinterpret_cast<uint64_t(*)[8]>(out))
        : [a] "r"(a), [b] "r"(b), [m] "r"(m), [out] "r"(out),
          "m"(*reinterpret_cast<const uint64_t(*)[8]>(a)),
          "m"(*reinterpret_cast<const uint64_t(*)[8]>(b)),
          "m"(*reinterpret_cast<const uint64_t(*)[4]>(m))
        : "cc");
}
#endif

constexpr uint64_t neg_inverse_mod_2_64(uint64_t odd) {
    uint64_t inv = 1;
    for (int i = 0; i < 6; ++i) {  // Newton: correct bits double each step
        inv *= 2 - odd * inv;
    }
    return ~inv + 1;
}

constexpr bool limbs_less(const Limbs& a, const Limbs& b) {
    for (int i = 3; i >= 0; --i) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return false;
}

// a - b, returning the borrow (1 when a < b).
constexpr uint64_t limbs_sub(Limbs& out, const Limbs& a, const Limbs& b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
        u128 d = static_cast<u128>(a[i]) - b[i] - borrow;
        out[i] = static_cast<uint64_t>(d);
        borrow = static_cast<uint64_t>(d >> 64) & 1;
    }
    return borrow;
}

// x * 2^k mod m by repeated doubling, for x < m; m < 2^255 so a doubled
// residue fits.
constexpr Limbs mul_pow2_mod(Limbs x, const Limbs& m, int k) {
    for (int n = 0; n < k; ++n) {
        Limbs d{};
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            d[i] = (x[i] << 1) | carry;
            carry = x[i] >> 63;
        }
        if (!limbs_less(d, m)) {
            limbs_sub(d, d, m);
        }
        x = d;
    }
    return x;
}

// 2^k mod m.
constexpr Limbs pow2_mod(const Limbs& m, int k) { return mul_pow2_mod(Limbs{1, 0, 0, 0}, m, k); }

// Portable forms of mul_wide_mulx and redc_mulx (same contracts), for CPUs
// without BMI2/ADX and for unoptimised builds.
LIBVERIFY_INLINE void mul_wide_portable(uint64_t out[8], const uint64_t a[4],
                                        const uint64_t b[4]) {
    uint64_t r[8] = {};
    for (int i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; ++j) {
            u128 x = static_cast<u128>(a[j]) * b[i] + r[i + j] + carry;
            r[i + j] = static_cast<uint64_t>(x);
            carry = static_cast<uint64_t>(x >> 64);
        }
        r[i + 4] = carry;
    }
    for (int i = 0; i < 8; ++i) {
        out[i] = r[i];
    }
}

LIBVERIFY_INLINE void redc_portable(uint64_t out[4], const uint64_t t[8], const uint64_t m[5]) {
    uint64_t w[4] = {t[0], t[1], t[2], t[3]};
    for (int row = 0; row < 4; ++row) {
        const uint64_t k = w[0] * m[4];
        u128 x = static_cast<u128>(k) * m[0] + w[0];
        for (int j = 1; j < 4; ++j) {
            x = static_cast<u128>(k) * m[j] + w[j] + static_cast<uint64_t>(x >> 64);
            w[j - 1] = static_cast<uint64_t>(x);
        }
        w[3] = static_cast<uint64_t>(x >> 64);
    }
    uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
        w[i] = add_carry(w[i], t[4 + i], carry);
    }
    uint64_t borrow = 0;
    uint64_t d[4];
    for (int i = 0; i < 4; ++i) {
        d[i] = sub_borrow(w[i], m[i], borrow);
    }
    const uint64_t keep = launder(0 - borrow);
    for (int i = 0; i < 4; ++i) {
        out[i] = (w[i] & keep) | (d[i] & ~keep);
    }
}

}  // namespace detail

// Params must provide `static constexpr Limbs modulus`, an odd prime whose
// top limb leaves two bits free (the no-carry Montgomery condition).
template <class Params>
class Field {
public:
    static constexpr Limbs kModulus = Params::modulus;
    static constexpr uint64_t kInv = detail::neg_inverse_mod_2_64(kModulus[0]);
    static constexpr Limbs kR = detail::pow2_mod(kModulus, 256);
    static constexpr Limbs kR2 = detail::pow2_mod(kModulus, 512);
    static_assert(kModulus[3] < (uint64_t{1} << 62), "modulus must be below 2^254");
    static_assert((kModulus[0] & 1) == 1, "modulus must be odd");
    static_assert(kModulus[3] < (uint64_t{1} << 63) - 1, "no-carry Montgomery needs a free top bit");
    static constexpr uint64_t kModulusAndInv[5] = {kModulus[0], kModulus[1], kModulus[2],
                                                   kModulus[3], kInv};

    constexpr Field() : mont_{0, 0, 0, 0} {}

    static constexpr Field zero() { return Field(); }
    static constexpr Field one() { return from_mont_limbs(kR); }

    static Field from_u64(uint64_t x) { return from_canonical_unchecked(Limbs{x, 0, 0, 0}); }

    // For compile-time constants only: converts by 256 modular doublings, far
    // slower than from_canonical_unchecked at run time. x must be canonical.
    static constexpr Field from_canonical_constexpr(const Limbs& x) {
        return from_mont_limbs(detail::mul_pow2_mod(x, kModulus, 256));
    }

    // Limbs must already be below the modulus; checked callers use
    // from_canonical().
    static Field from_canonical_unchecked(const Limbs& x) {
        Field f = from_mont_limbs(x);
        return f * from_mont_limbs(kR2);
    }

    // Returns false (and leaves out untouched) when x >= modulus.
    static bool from_canonical(const Limbs& x, Field& out) {
        if (!is_canonical(x)) {
            return false;
        }
        out = from_canonical_unchecked(x);
        return true;
    }

    static bool is_canonical(const Limbs& x) {
        Limbs scratch{};
        return detail::limbs_sub(scratch, x, kModulus) == 1;
    }

    // 32 bytes, most significant first; rejects values >= modulus.
    static bool from_bytes_be(const uint8_t* in, Field& out) {
        return from_canonical(limbs_from_bytes_be(in), out);
    }

    // Any 32 bytes, little-endian, reduced modulo the modulus.
    static Field from_bytes_le_reduce(const uint8_t* in) {
        return from_canonical_unchecked(reduce_full(limbs_from_bytes_le(in)));
    }

    // Any 64 bytes, little-endian, reduced modulo the modulus.
    static Field from_bytes_le_wide_reduce(const uint8_t* in) {
        Field lo = from_bytes_le_reduce(in);
        Field hi = from_bytes_le_reduce(in + 32);
        return lo + hi * from_mont_limbs(kR2);  // from_mont_limbs(R2) is 2^256
    }

    static Limbs limbs_from_bytes_le(const uint8_t* in) {
        Limbs x{};
        for (int i = 0; i < 32; ++i) {
            x[i / 8] |= static_cast<uint64_t>(in[i]) << (8 * (i % 8));
        }
        return x;
    }

    static Limbs limbs_from_bytes_be(const uint8_t* in) {
        Limbs x{};
        for (int i = 0; i < 32; ++i) {
            x[3 - i / 8] |= static_cast<uint64_t>(in[i]) << (8 * (7 - i % 8));
        }
        return x;
    }

    Limbs to_canonical() const {
        Field one_plain = from_mont_limbs(Limbs{1, 0, 0, 0});
        return (*this * one_plain).mont_;
    }

    void to_bytes_be(uint8_t* out) const {
        Limbs x = to_canonical();
        for (int i = 0; i < 32; ++i) {
            out[i] = static_cast<uint8_t>(x[3 - i / 8] >> (8 * (7 - i % 8)));
        }
    }

    void to_bytes_le(uint8_t* out) const {
        Limbs x = to_canonical();
        for (int i = 0; i < 32; ++i) {
            out[i] = static_cast<uint8_t>(x[i / 8] >> (8 * (i % 8)));
        }
    }

    const Limbs& mont_limbs() const { return mont_; }
    static constexpr Field from_mont_limbs(const Limbs& m) {
        Field f;
        f.mont_ = m;
        return f;
    }

    bool is_zero() const {
        uint64_t acc = mont_[0] | mont_[1] | mont_[2] | mont_[3];
        return detail::launder(acc) == 0;
    }

    bool operator==(const Field& o) const {
        uint64_t acc = 0;
        for (int i = 0; i < 4; ++i) {
            acc |= mont_[i] ^ o.mont_[i];
        }
        return detail::launder(acc) == 0;
    }
    bool operator!=(const Field& o) const { return !(*this == o); }

    // Picks b when choose_b is true, without a branch.
    static Field select(bool choose_b, const Field& a, const Field& b) {
        uint64_t mask = detail::launder(0 - static_cast<uint64_t>(choose_b));
        Field r;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = (a.mont_[i] & ~mask) | (b.mont_[i] & mask);
        }
        return r;
    }

    LIBVERIFY_INLINE Field operator+(const Field& o) const {
#ifdef LIBVERIFY_HAVE_ADD_ASM
        Field r;
        detail::add_mod_asm(r.mont_.data(), mont_.data(), o.mont_.data(), kModulus.data());
        return r;
#else
        Field r = add_unreduced(o);
        r.reduce_once();
        return r;
#endif
    }

    LIBVERIFY_INLINE Field operator-(const Field& o) const {
#ifdef LIBVERIFY_HAVE_ADD_ASM
        Field r;
        detail::sub_mod_asm(r.mont_.data(), mont_.data(), o.mont_.data(), kModulus.data());
        return r;
#else
        uint64_t borrow = 0;
        Field r;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = detail::sub_borrow(mont_[i], o.mont_[i], borrow);
        }
        const uint64_t mask = detail::launder(0 - borrow);
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = detail::add_carry(r.mont_[i], kModulus[i] & mask, carry);
        }
        return r;
#endif
    }

    // The plain sum of two reduced values, below 2m and so not a valid field
    // element; it is only for immediate use as an operand of operator*, which
    // accepts operands below 2m (see there).
    LIBVERIFY_INLINE Field add_unreduced(const Field& o) const {
        uint64_t carry = 0;
        Field r;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = detail::add_carry(mont_[i], o.mont_[i], carry);
        }
        return r;  // m < 2^254, so no carry out
    }

    Field operator-() const { return zero() - *this; }
    Field dbl() const { return *this + *this; }

    Field& operator+=(const Field& o) { return *this = *this + o; }
    Field& operator-=(const Field& o) { return *this = *this - o; }
    Field& operator*=(const Field& o) { return *this = *this * o; }

    // Montgomery multiplication; operands below 2m (unreduced sums) are
    // accepted. With BMI2/ADX: the 512-bit product and then its reduction
    // (mul_wide_mulx, redc_mulx): ab < 4m^2 < m 2^256, which the reduction
    // needs. Measured against a fused (interleaved) mulx kernel, the two
    // passes were 1.2x faster in a dependent chain and 1.5x in throughput,
    // the product's rows having no dependency on the reduction's.
    // Otherwise portable CIOS, fully unrolled: the modulus leaves the top bit
    // of the top limb free, so the running value fits four limbs plus the
    // carry folded into the top limb (the "no-carry" variant); it stays below
    // a + m < 3m < 2^256, and the product below ab / 2^256 + m <
    // (4m / 2^256 + 1) m < 2m, which the final conditional subtraction brings
    // below m.
    LIBVERIFY_INLINE Field operator*(const Field& o) const {
#ifdef LIBVERIFY_HAVE_MULX_ASM
        if (detail::kCpuHasMulxAdx) {
            uint64_t wide[8];
            Field r;
            detail::mul_wide_mulx(wide, mont_.data(), o.mont_.data());
            detail::redc_mulx(r.mont_.data(), wide, kModulusAndInv);
            return r;
        }
#endif
        const uint64_t a0 = mont_[0], a1 = mont_[1], a2 = mont_[2], a3 = mont_[3];
        uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        mul_step(a0, a1, a2, a3, o.mont_[0], t0, t1, t2, t3);
        mul_step(a0, a1, a2, a3, o.mont_[1], t0, t1, t2, t3);
        mul_step(a0, a1, a2, a3, o.mont_[2], t0, t1, t2, t3);
        mul_step(a0, a1, a2, a3, o.mont_[3], t0, t1, t2, t3);
        Field r;
        r.mont_ = {t0, t1, t2, t3};
        r.reduce_once();
        return r;
    }

    LIBVERIFY_INLINE Field square() const { return *this * *this; }

    // Exponent is public or secret alike: always square and multiply.
    Field pow(const Limbs& e) const {
        Field acc = one();
        for (int i = 255; i >= 0; --i) {
            acc = acc.square();
            Field prod = acc * *this;
            bool bit = (e[i / 64] >> (i % 64)) & 1;
            acc = select(bit, acc, prod);
        }
        return acc;
    }

    // Sliding window of up to four bits over the odd powers x, x^3, ..., x^15:
    // about 256 squarings and 60 multiplications for a full-size exponent.
    Field pow_vartime(const Limbs& e) const {
        auto bit = [&e](int i) { return ((e[i / 64] >> (i % 64)) & 1) != 0; };
        Field odd[8];
        odd[0] = *this;
        const Field sq = square();
        for (int i = 1; i < 8; ++i) {
            odd[i] = odd[i - 1] * sq;
        }
        Field acc = one();
        bool started = false;
        for (int i = 255; i >= 0;) {
            if (!bit(i)) {
                if (started) {
                    acc = acc.square();
                }
                --i;
                continue;
            }
            int low = i >= 3 ? i - 3 : 0;  // the window [low, i] ends on a set bit
            while (!bit(low)) {
                ++low;
            }
            int window = 0;
            for (int k = i; k >= low; --k) {
                window = 2 * window + (bit(k) ? 1 : 0);
                if (started) {
                    acc = acc.square();
                }
            }
            acc = started ? acc * odd[window / 2] : odd[window / 2];
            started = true;
            i = low - 1;
        }
        return acc;
    }

    // Fermat inversion, constant time; the inverse of zero is zero.
    Field inverse() const { return pow(modulus_minus(2)); }
    Field inverse_vartime() const { return pow_vartime(modulus_minus(2)); }

    static constexpr Limbs modulus_minus(uint64_t k) {
        Limbs out{};
        detail::limbs_sub(out, kModulus, Limbs{k, 0, 0, 0});
        return out;
    }

private:
    // t += a * b, then one Montgomery reduction step (t /= 2^64 mod m).
    LIBVERIFY_INLINE static void mul_step(uint64_t a0, uint64_t a1,
                                                               uint64_t a2, uint64_t a3,
                                                               uint64_t b, uint64_t& t0,
                                                               uint64_t& t1, uint64_t& t2,
                                                               uint64_t& t3) {
        using detail::u128;
        u128 x = static_cast<u128>(a0) * b + t0;
        t0 = static_cast<uint64_t>(x);
        x = static_cast<u128>(a1) * b + t1 + static_cast<uint64_t>(x >> 64);
        t1 = static_cast<uint64_t>(x);
        x = static_cast<u128>(a2) * b + t2 + static_cast<uint64_t>(x >> 64);
        t2 = static_cast<uint64_t>(x);
        x = static_cast<u128>(a3) * b + t3 + static_cast<uint64_t>(x >> 64);
        t3 = static_cast<uint64_t>(x);
        const uint64_t high = static_cast<uint64_t>(x >> 64);

        const uint64_t m = t0 * kInv;
        u128 y = static_cast<u128>(m) * kModulus[0] + t0;
        y = static_cast<u128>(m) * kModulus[1] + t1 + static_cast<uint64_t>(y >> 64);
        t0 = static_cast<uint64_t>(y);
        y = static_cast<u128>(m) * kModulus[2] + t2 + static_cast<uint64_t>(y >> 64);
        t1 = static_cast<uint64_t>(y);
        y = static_cast<u128>(m) * kModulus[3] + t3 + static_cast<uint64_t>(y >> 64);
        t2 = static_cast<uint64_t>(y);
        t3 = high + static_cast<uint64_t>(y >> 64);
    }

    // Subtracts the modulus once if the value is at or above it.
    LIBVERIFY_INLINE void reduce_once() {
        uint64_t borrow = 0;
        uint64_t d[4];
        for (int i = 0; i < 4; ++i) {
            d[i] = detail::sub_borrow(mont_[i], kModulus[i], borrow);
        }
        const uint64_t keep = detail::launder(0 - borrow);
        for (int i = 0; i < 4; ++i) {
            mont_[i] = (mont_[i] & keep) | (d[i] & ~keep);
        }
    }

    // m << k for the largest k that still fits 256 bits.
    static constexpr int kMaxShift = [] {
        int k = 0;
        while ((kModulus[3] << (k + 1)) >> (k + 1) == kModulus[3] && k < 63) {
            ++k;
        }
        return k;
    }();

    static constexpr Limbs shifted_modulus(int k) {
        Limbs out{};
        for (int i = 3; i >= 0; --i) {
            out[i] = kModulus[i] << k;
            if (k > 0 && i > 0) {
                out[i] |= kModulus[i - 1] >> (64 - k);
            }
        }
        return out;
    }

    // Brings any 256-bit value below the modulus in constant time: before
    // the step for shift k the value is below m * 2^(k+1).
    static Limbs reduce_full(Limbs x) {
        for (int k = kMaxShift; k >= 0; --k) {
            Limbs d{};
            uint64_t borrow = detail::limbs_sub(d, x, shifted_modulus(k));
            x = select(borrow == 0, from_mont_limbs(x), from_mont_limbs(d)).mont_;
        }
        return x;
    }

    Limbs mont_;
};

// A double-width residue modulo N = m * 2^256, kept in [0, N): a product of
// two Montgomery forms not yet reduced, or a sum or difference of such.
// Extension-field code adds and subtracts these and reduces once per output
// coefficient (lazy reduction). reduce() maps t to t / 2^256 mod m; N is a
// multiple of m, so arithmetic mod N commutes with it, and the product of
// the Montgomery forms aR and bR reduces to abR, the form of ab. Every
// operation is constant time.
template <class Params>
class FieldWide {
public:
    using Base = Field<Params>;
    using WideLimbs = std::array<uint64_t, 8>;

    constexpr FieldWide() : t_{} {}

    // The plain product; operands may be unreduced sums below 2m, since then
    // the product is below 4m^2 < N (4m < 2^256).
    LIBVERIFY_INLINE static FieldWide mul(const Base& a, const Base& b) {
        FieldWide r;
#ifdef LIBVERIFY_HAVE_MULX_ASM
        if (detail::kCpuHasMulxAdx) {
            detail::mul_wide_mulx(r.t_.data(), a.mont_limbs().data(), b.mont_limbs().data());
            return r;
        }
#endif
        detail::mul_wide_portable(r.t_.data(), a.mont_limbs().data(), b.mont_limbs().data());
        return r;
    }

    // Sum mod N: below 2N < 2^511, so it fits, and N has zero low limbs, so
    // the correction touches only the high half.
    LIBVERIFY_INLINE FieldWide operator+(const FieldWide& o) const {
#ifdef LIBVERIFY_HAVE_ADD_ASM
        FieldWide r;
        detail::add_mod_wide_asm(r.t_.data(), t_.data(), o.t_.data(), Base::kModulus.data());
        return r;
#else
        FieldWide r = add_no_wrap(o);
        uint64_t borrow = 0;
        uint64_t d[4];
        for (int i = 0; i < 4; ++i) {
            d[i] = detail::sub_borrow(r.t_[4 + i], Base::kModulus[i], borrow);
        }
        const uint64_t keep = detail::launder(0 - borrow);
        for (int i = 0; i < 4; ++i) {
            r.t_[4 + i] = (r.t_[4 + i] & keep) | (d[i] & ~keep);
        }
        return r;
#endif
    }

    // Difference mod N.
    LIBVERIFY_INLINE FieldWide operator-(const FieldWide& o) const {
#ifdef LIBVERIFY_HAVE_ADD_ASM
        FieldWide r;
        detail::sub_mod_wide_asm(r.t_.data(), t_.data(), o.t_.data(), Base::kModulus.data());
        return r;
#else
        FieldWide r;
        const uint64_t mask = detail::launder(0 - r.set_difference(*this, o));
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            r.t_[4 + i] = detail::add_carry(r.t_[4 + i], Base::kModulus[i] & mask, carry);
        }
        return r;
#endif
    }

    LIBVERIFY_INLINE FieldWide dbl() const { return *this + *this; }

    // The plain integer difference, for callers that know it is not negative
    // (the cross term of Karatsuba, (a + b)(c + d) - ac - bd = ad + bc).
    LIBVERIFY_INLINE FieldWide sub_no_wrap(const FieldWide& o) const {
        FieldWide r;
        r.set_difference(*this, o);
        return r;
    }

    // The plain integer sum, for callers that know it stays below N.
    LIBVERIFY_INLINE FieldWide add_no_wrap(const FieldWide& o) const {
        FieldWide r;
        uint64_t carry = 0;
        for (int i = 0; i < 8; ++i) {
            r.t_[i] = detail::add_carry(t_[i], o.t_[i], carry);
        }
        return r;
    }

    // t / 2^256 mod m, fully reduced.
    LIBVERIFY_INLINE Base reduce() const {
        Limbs out;
#ifdef LIBVERIFY_HAVE_MULX_ASM
        if (detail::kCpuHasMulxAdx) {
            detail::redc_mulx(out.data(), t_.data(), Base::kModulusAndInv);
            return Base::from_mont_limbs(out);
        }
#endif
        detail::redc_portable(out.data(), t_.data(), Base::kModulusAndInv);
        return Base::from_mont_limbs(out);
    }

    const WideLimbs& limbs() const { return t_; }
    // For tests: any t below N.
    static FieldWide from_limbs(const WideLimbs& t) {
        FieldWide r;
        r.t_ = t;
        return r;
    }

private:
    // *this = a - b mod 2^512; returns the borrow (1 when a < b).
    LIBVERIFY_INLINE uint64_t set_difference(const FieldWide& a, const FieldWide& b) {
        uint64_t borrow = 0;
        for (int i = 0; i < 8; ++i) {
            t_[i] = detail::sub_borrow(a.t_[i], b.t_[i], borrow);
        }
        return borrow;
    }

    WideLimbs t_;
};

// BN254 (alt_bn128, the circom/Ethereum "bn128" curve): base field modulus p.
struct Bn254FqParams {
    static constexpr Limbs modulus = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
};

// BN254 scalar field modulus r; also the base field of Baby Jubjub.
struct Bn254FrParams {
    static constexpr Limbs modulus = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
};

using Fq = Field<Bn254FqParams>;
using Fr = Field<Bn254FrParams>;
using FqWide = FieldWide<Bn254FqParams>;

}  // namespace libverify
