// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";

/// The deposit tree of docs/protocol.md §4 kept on chain: a binary Merkle tree
/// of fixed depth 20 over Poseidon (circomlib's Poseidon(2)), empty leaves 0,
/// inner nodes H(left, right), leaves appended in order and set to 0 on
/// revocation.
///
/// Storage is one frontier node per level, not the whole tree: an append
/// needs only the completed left siblings of its path (the right ones are
/// empty subtrees, whose roots are constants). A frontier node is written
/// only when the subtree below it is complete, about once per append, and
/// revoking a leaf takes the leaf's path from the caller (checked against the
/// current root) and rewrites the frontier nodes on that path.
abstract contract DepositTree {
    uint256 public constant DEPTH = 20;
    uint256 public constant CAPACITY = 2 ** DEPTH;
    /// How many recent roots `isKnownRoot` accepts, for consumers on chain
    /// whose proofs name a root that a later deposit or slash replaced.
    uint256 public constant ROOT_HISTORY = 64;

    error TreeFull();
    error StalePath();

    /// Leaves appended so far; the next leaf's index.
    uint32 public leafCount;
    uint8 private rootCursor;
    /// frontier[h]: node (h, (leafCount >> h) - 1) whenever leafCount >> h is
    /// odd (the left sibling the next append at level h needs); otherwise
    /// not read before it is rewritten.
    uint256[DEPTH] private frontier;
    uint256[ROOT_HISTORY] private roots;

    constructor() {
        roots[0] = _zeros()[DEPTH];
    }

    function currentRoot() public view returns (uint256) {
        return roots[rootCursor];
    }

    /// True for the current root and the ROOT_HISTORY - 1 before it. Zero is
    /// never a root: the empty tree's root is zeros[DEPTH].
    function isKnownRoot(uint256 root) public view returns (bool) {
        if (root == 0) {
            return false;
        }
        for (uint256 i = 0; i < ROOT_HISTORY; ++i) {
            if (roots[i] == root) {
                return true;
            }
        }
        return false;
    }

    /// The roots of empty subtrees: zeros[0] = 0, zeros[h+1] = H(zeros[h], zeros[h]).
    /// Constants because recomputing them would cost 20 hashes per append;
    /// test/DepositTree.t.sol recomputes them with the hash used here.
    function _zeros() internal pure returns (uint256[DEPTH + 1] memory) {
        return [
            uint256(0),
            0x2098f5fb9e239eab3ceac3f27b81e481dc3124d55ffed523a839ee8446b64864,
            0x1069673dcdb12263df301a6ff584a7ec261a44cb9dc68df067a4774460b1f1e1,
            0x18f43331537ee2af2e3d758d50f72106467c6eea50371dd528d57eb2b856d238,
            0x07f9d837cb17b0d36320ffe93ba52345f1b728571a568265caac97559dbc952a,
            0x2b94cf5e8746b3f5c9631f4c5df32907a699c58c94b2ad4d7b5cec1639183f55,
            0x2dee93c5a666459646ea7d22cca9e1bcfed71e6951b953611d11dda32ea09d78,
            0x078295e5a22b84e982cf601eb639597b8b0515a88cb5ac7fa8a4aabe3c87349d,
            0x2fa5e5f18f6027a6501bec864564472a616b2e274a41211a444cbe3a99f3cc61,
            0x0e884376d0d8fd21ecb780389e941f66e45e7acce3e228ab3e2156a614fcd747,
            0x1b7201da72494f1e28717ad1a52eb469f95892f957713533de6175e5da190af2,
            0x1f8d8822725e36385200c0b201249819a6e6e1e4650808b5bebc6bface7d7636,
            0x2c5d82f66c914bafb9701589ba8cfcfb6162b0a12acf88a8d0879a0471b5f85a,
            0x14c54148a0940bb820957f5adf3fa1134ef5c4aaa113f4646458f270e0bfbfd0,
            0x190d33b12f986f961e10c0ee44d8b9af11be25588cad89d416118e4bf4ebe80c,
            0x22f98aa9ce704152ac17354914ad73ed1167ae6596af510aa5b3649325e06c92,
            0x2a7c7c9b6ce5880b9f6f228d72bf6a575a526f29c66ecceef8b753d38bba7323,
            0x2e8186e558698ec1c67af9c14d463ffc470043c9c2988b954d75dd643f36b992,
            0x0f57c5571e9a4eab49e2c8cf050dae948aef6ead647392273546249d1c1ff10f,
            0x1830ee67b5fb554ad5f63d4388800e1cfe78e310697d46e43c9ce36134f72cca,
            0x2134e76ac5d21aab186c2be1dd8f84ee880a1e46eaf712f9d371b6df22191f3e
        ];
    }

    function _hash(uint256 left, uint256 right) internal pure returns (uint256) {
        return PoseidonT3.hash([left, right]);
    }

    /// Appends `leaf`; returns its index and the new root.
    function _append(uint256 leaf) internal returns (uint32 index, uint256 root) {
        index = leafCount;
        if (index >= CAPACITY) {
            revert TreeFull();
        }
        uint256[DEPTH + 1] memory zeros = _zeros();
        uint256 node = leaf;
        for (uint256 h = 0; h < DEPTH; ++h) {
            if ((index >> h) & 1 == 1) {
                node = _hash(frontier[h], node);
            } else {
                // The node is complete once the last leaf below it arrives:
                // its index has h low bits set.
                if ((index + 1) % (2 ** h) == 0) {
                    frontier[h] = node;
                }
                node = _hash(node, zeros[h]);
            }
        }
        leafCount = index + 1;
        root = node;
        _publish(root);
    }

    /// Replaces leaf `index`, whose value is `leaf`, by 0; `siblings` is its
    /// authentication path in the current tree. Returns the new root.
    function _clear(uint32 index, uint256 leaf, uint256[DEPTH] calldata siblings)
        internal
        returns (uint256 root)
    {
        uint256 count = leafCount;
        uint256 before = leaf;
        uint256 node = 0;
        for (uint256 h = 0; h < DEPTH; ++h) {
            uint256 position = uint256(index) >> h;
            uint256 frontierSlot = count >> h;
            if (frontierSlot & 1 == 1 && position == frontierSlot - 1) {
                frontier[h] = node;
            }
            if (position & 1 == 1) {
                before = _hash(siblings[h], before);
                node = _hash(siblings[h], node);
            } else {
                before = _hash(before, siblings[h]);
                node = _hash(node, siblings[h]);
            }
        }
        if (before != currentRoot()) {
            revert StalePath();
        }
        root = node;
        _publish(root);
    }

    function _publish(uint256 root) private {
        // casting to 'uint8' is safe because ROOT_HISTORY <= 256
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 cursor = uint8((uint256(rootCursor) + 1) % ROOT_HISTORY);
        rootCursor = cursor;
        roots[cursor] = root;
    }
}
