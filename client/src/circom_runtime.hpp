#pragma once
// Our implementation of the runtime that circom's generated witness code
// calls into (the Circom_CalcWit class declared by the generated
// calcwit.hpp), replacing circom's calcwit.cpp: lookups fail softly instead
// of asserting, the destructor frees and wipes what the computation
// allocated, and failed circuit assertions are recorded per thread.

namespace zkclient::circom_runtime {

// Clears this thread's failed-assertion flag, before a computation.
void reset_assert_failures();
// True when a circuit assertion failed on this thread since the last reset.
bool assert_failed();

}  // namespace zkclient::circom_runtime
