#include "zkclient/merkle.hpp"

#include <new>

#include "libverify/poseidon.hpp"

namespace zkclient {

using libverify::Fr;
using libverify::Status;

namespace {

Fr hash_pair(const Fr& left, const Fr& right) {
    const Fr in[2] = {left, right};
    return libverify::poseidon(in, 2);
}

// One pass up the tree, keeping only the current level: a list of a million
// leaves needs a million hashes but never more than one level in memory.
Status walk(uint32_t depth, const std::vector<Fr>& leaves, uint64_t index, bool want_path, Fr& root,
            MerklePath& path) noexcept {
    if (depth == 0 || depth > kMaxTreeDepth) return Status::bad_length;
    const uint64_t capacity = uint64_t{1} << depth;
    if (leaves.size() > capacity || (want_path && index >= capacity)) return Status::bad_length;
    try {
        MerklePath out;
        std::vector<Fr> level(leaves);
        Fr empty = Fr::zero();  // the root of an empty subtree at the current height
        uint64_t position = index;
        for (uint32_t h = 0; h < depth; ++h) {
            if (want_path) {
                const uint64_t sibling = position ^ 1;
                out.elements.push_back(sibling < level.size() ? level[sibling] : empty);
                out.indices.push_back(static_cast<uint8_t>(position & 1));
                position >>= 1;
            }
            std::vector<Fr> next((level.size() + 1) / 2);
            for (size_t j = 0; j < next.size(); ++j) {
                const Fr& right = 2 * j + 1 < level.size() ? level[2 * j + 1] : empty;
                next[j] = hash_pair(level[2 * j], right);
            }
            level.swap(next);
            empty = hash_pair(empty, empty);
        }
        root = level.empty() ? empty : level[0];
        if (want_path) path = std::move(out);
        return Status::ok;
    } catch (const std::bad_alloc&) {
        return Status::internal_error;
    }
}

}  // namespace

Status merkle_root(uint32_t depth, const std::vector<Fr>& leaves, Fr& root) noexcept {
    MerklePath unused;
    return walk(depth, leaves, 0, false, root, unused);
}

Status merkle_root_and_path(uint32_t depth, const std::vector<Fr>& leaves, uint64_t index, Fr& root,
                            MerklePath& path) noexcept {
    return walk(depth, leaves, index, true, root, path);
}

}  // namespace zkclient
