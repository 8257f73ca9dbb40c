#pragma once
// The deposit tree of docs/protocol.md §4: a binary Poseidon Merkle tree of
// fixed depth whose empty leaves are 0 and whose inner nodes are H(left, right).
//
// Heights count from the leaves: height 0 holds the leaves, height `depth`
// the root. Node (h, j) covers leaves [j * 2^h, (j + 1) * 2^h). The registry
// stores exactly the nodes that cover at least one appended leaf; every other
// node is the empty subtree of its height, zero_hashes()[h].

#include <cstdint>
#include <vector>

#include "libverify/field.hpp"

namespace zkregistry {

constexpr unsigned kMinDepth = 1;
constexpr unsigned kMaxDepth = 32;
constexpr unsigned kDefaultDepth = 20;

libverify::Fr hash_pair(const libverify::Fr& left, const libverify::Fr& right);

// zeros[h] is the root of an empty subtree of height h, for h = 0..depth.
std::vector<libverify::Fr> zero_hashes(unsigned depth);

// The nodes above `leaf` at `index` given its siblings (siblings[h] is the
// sibling at height h, h = 0..depth-1). Returns nodes[h] for h = 0..depth:
// nodes[0] is the leaf, nodes[depth] the root.
std::vector<libverify::Fr> path_nodes(const libverify::Fr& leaf, uint64_t index,
                                      const std::vector<libverify::Fr>& siblings);

// Every stored node of a tree holding `leaves` (at most 2^depth of them):
// levels[h][j] is node (h, j) for j < ceil(n / 2^h), h = 0..depth. levels[0]
// is the leaves; an empty tree has no stored node at all.
std::vector<std::vector<libverify::Fr>> build_levels(const std::vector<libverify::Fr>& leaves,
                                                     unsigned depth);

// The root of the tree holding `leaves`.
libverify::Fr tree_root(const std::vector<libverify::Fr>& leaves, unsigned depth);

}  // namespace zkregistry
