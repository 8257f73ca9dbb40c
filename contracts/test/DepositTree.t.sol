// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";

import {DepositTree} from "../src/DepositTree.sol";
import {vm} from "./Cheats.sol";
import {Support, TreeHarness} from "./Support.sol";

/// The on-chain Poseidon and tree against circomlibjs (docs/protocol.md §1, §4).
contract DepositTreeTest is Support {
    uint256 constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    TreeHarness tree;

    function setUp() public {
        tree = new TreeHarness();
    }

    function test_poseidonMatchesCircomlibjs() public {
        uint256[] memory one = new uint256[](5);
        one[0] = 0;
        one[1] = 1;
        one[2] = R - 1;
        one[3] = uint256(keccak256("k")) % R;
        one[4] = 0x1234567890abcdef;
        uint256[] memory expected = oracleHashes(1, one);
        for (uint256 i = 0; i < one.length; ++i) {
            assertEq(PoseidonT2.hash([one[i]]), expected[i], "H(x)");
        }

        uint256[] memory two = new uint256[](8);
        two[0] = 0;
        two[1] = 0;
        two[2] = R - 1;
        two[3] = R - 1;
        two[4] = uint256(keccak256("id")) % R;
        two[5] = type(uint64).max;
        two[6] = 1;
        two[7] = 0;
        expected = oracleHashes(2, two);
        for (uint256 i = 0; i < two.length / 2; ++i) {
            assertEq(PoseidonT3.hash([two[2 * i], two[2 * i + 1]]), expected[i], "H(x, y)");
        }
        // The arity is part of the function (§1).
        assertTrue(PoseidonT2.hash([uint256(1)]) != PoseidonT3.hash([uint256(1), 0]), "H(1) != H(1, 0)");
    }

    function test_emptySubtreeRootsAreTheHashChain() public view {
        uint256[21] memory zeros = tree.zeros();
        assertEq(zeros[0], 0, "empty leaf");
        for (uint256 h = 0; h < DEPTH; ++h) {
            assertEq(zeros[h + 1], PoseidonT3.hash([zeros[h], zeros[h]]), "zeros[h+1]");
        }
        assertEq(tree.currentRoot(), zeros[DEPTH], "empty tree root");
    }

    /// Appends and revocations in an order that reaches every case of the
    /// frontier: a revoked leaf inside the live frontier node, one at the
    /// very end, one long complete, one in the first leaf, and appends that
    /// complete subtrees holding revoked leaves. Every root must be the
    /// reference tree's.
    function test_rootsMatchReferenceTree() public {
        string[] memory steps = new string[](48);
        uint256 n = 0;
        for (uint256 i = 0; i < 13; ++i) {
            steps[n++] = string.concat("a", vm.toString(leafValue(i)));
        }
        uint32[6] memory revoked = [uint32(12), 9, 0, 5, 13, 16];
        uint256 nextLeaf = 13;
        for (uint256 r = 0; r < revoked.length; ++r) {
            // Keep appending so that later revocations hit other frontier states.
            while (nextLeaf <= revoked[r] + 1) {
                steps[n++] = string.concat("a", vm.toString(leafValue(nextLeaf++)));
            }
            steps[n++] = string.concat("z", vm.toString(revoked[r]));
        }
        while (n < steps.length) {
            steps[n++] = string.concat("a", vm.toString(leafValue(nextLeaf++)));
        }

        string[] memory args = new string[](steps.length + 1);
        args[0] = "tree";
        for (uint256 i = 0; i < steps.length; ++i) {
            args[i + 1] = steps[i];
        }
        (uint256[] memory roots, uint256[] memory paths) = abi.decode(oracle(args), (uint256[], uint256[]));

        uint256 slashes = 0;
        uint256 appended = 0;
        for (uint256 i = 0; i < steps.length; ++i) {
            uint256 root;
            if (bytes(steps[i])[0] == "a") {
                (, root) = tree.append(leafValue(appended++));
            } else {
                uint32 index = revoked[slashes];
                uint256[DEPTH] memory path;
                for (uint256 h = 0; h < DEPTH; ++h) {
                    path[h] = paths[slashes * DEPTH + h];
                }
                root = tree.clear(index, leafValue(index), path);
                ++slashes;
            }
            assertEq(root, roots[i], "root after step");
            assertEq(tree.currentRoot(), roots[i], "current root after step");
        }
    }

    function test_clearRefusesAPathOfAnotherTree() public {
        uint256[21] memory zeros = tree.zeros();
        tree.append(leafValue(0));
        tree.append(leafValue(1));
        uint256[DEPTH] memory path = pathNextTo(leafValue(1), zeros);
        // The right path for leaf 0, but the claimed leaf value is wrong.
        vm.expectRevert(DepositTree.StalePath.selector);
        tree.clear(0, leafValue(2), path);
        // The path as it was before leaf 1 arrived.
        path[0] = 0;
        vm.expectRevert(DepositTree.StalePath.selector);
        tree.clear(0, leafValue(0), path);
    }

    function test_oldRootsLeaveTheHistory() public {
        (, uint256 first) = tree.append(leafValue(0));
        for (uint256 i = 1; i < tree.ROOT_HISTORY(); ++i) {
            tree.append(leafValue(i));
            assertTrue(tree.isKnownRoot(first), "root within the history");
        }
        tree.append(leafValue(999));
        assertTrue(!tree.isKnownRoot(first), "root past the history");
        assertTrue(!tree.isKnownRoot(0), "zero is never a root");
    }

    function leafValue(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("leaf", i))) % R;
    }
}
