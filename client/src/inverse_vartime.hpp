#pragma once
// Variable-time inversion for the prover's batch inversions, whose inputs
// are public (differences of proving-key points): GMP's extended Euclid is
// several times cheaper than libverify's constant-time Fermat inversion.

#include "libverify/field.hpp"
#include "libverify/tower.hpp"

namespace zkclient {

// The inverse of zero is zero, as in libverify.
libverify::Fq inverse_vartime(const libverify::Fq& x);
libverify::Fq2 inverse_vartime(const libverify::Fq2& x);

}  // namespace zkclient
