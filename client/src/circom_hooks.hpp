#pragma once
// Included first into the circom-generated circuit code (compile option
// -include): the sink that client/tools/circom_cpp.sh substitutes for the
// generated code's std::cout on a failed circuit assertion.

#include <ostream>

std::ostream& zkc_circom_assert_failed();
