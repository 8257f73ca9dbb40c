#pragma once
// The deposit tree (docs/protocol.md section 4), rebuilt on the client from
// the complete public list of leaves, so that the registry never learns
// which leaf (and so which deposit) the client cares about.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace zkclient {

constexpr uint32_t kMaxTreeDepth = 32;

struct MerklePath {
    std::vector<libverify::Fr> elements;  // sibling at each height, leaf level first
    std::vector<uint8_t> indices;         // 1 where the node on the path is a right child
};

// The root of the depth-`depth` tree whose first leaves are `leaves` and
// whose other leaves are 0, with inner nodes H(left, right). bad_length when
// depth is 0 or above kMaxTreeDepth or there are more than 2^depth leaves;
// internal_error when memory runs out. `root` is written only on success.
libverify::Status merkle_root(uint32_t depth, const std::vector<libverify::Fr>& leaves,
                              libverify::Fr& root) noexcept;

// The same root, and the authentication path of leaf `index` (which may be
// an empty slot). bad_length also when index >= 2^depth.
libverify::Status merkle_root_and_path(uint32_t depth, const std::vector<libverify::Fr>& leaves,
                                       uint64_t index, libverify::Fr& root,
                                       MerklePath& path) noexcept;

}  // namespace zkclient
