#include "zkregistry/tree.hpp"

#include "libverify/poseidon.hpp"

namespace zkregistry {

using libverify::Fr;

Fr hash_pair(const Fr& left, const Fr& right) {
    const Fr inputs[2] = {left, right};
    return libverify::poseidon(inputs, 2);
}

std::vector<Fr> zero_hashes(unsigned depth) {
    std::vector<Fr> zeros{Fr::zero()};
    zeros.reserve(depth + 1);
    for (unsigned h = 0; h < depth; ++h) {
        zeros.push_back(hash_pair(zeros[h], zeros[h]));
    }
    return zeros;
}

std::vector<Fr> path_nodes(const Fr& leaf, uint64_t index, const std::vector<Fr>& siblings) {
    std::vector<Fr> nodes{leaf};
    nodes.reserve(siblings.size() + 1);
    for (size_t h = 0; h < siblings.size(); ++h) {
        const Fr& below = nodes.back();
        const bool is_right = ((index >> h) & 1) != 0;
        nodes.push_back(is_right ? hash_pair(siblings[h], below) : hash_pair(below, siblings[h]));
    }
    return nodes;
}

std::vector<std::vector<Fr>> build_levels(const std::vector<Fr>& leaves, unsigned depth) {
    const std::vector<Fr> zeros = zero_hashes(depth);
    std::vector<std::vector<Fr>> levels{leaves};
    levels.reserve(depth + 1);
    for (unsigned h = 0; h < depth; ++h) {
        const std::vector<Fr>& below = levels[h];
        std::vector<Fr> above;
        above.reserve((below.size() + 1) / 2);
        for (size_t j = 0; j < below.size(); j += 2) {
            const Fr& right = j + 1 < below.size() ? below[j + 1] : zeros[h];
            above.push_back(hash_pair(below[j], right));
        }
        levels.push_back(std::move(above));
    }
    return levels;
}

Fr tree_root(const std::vector<Fr>& leaves, unsigned depth) {
    if (leaves.empty()) {
        return zero_hashes(depth)[depth];
    }
    return build_levels(leaves, depth)[depth][0];
}

}  // namespace zkregistry
