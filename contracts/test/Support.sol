// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {DepositTree} from "../src/DepositTree.sol";
import {CreditDeposits} from "../src/CreditDeposits.sol";
import {IWithdrawalVerifier} from "../src/IWithdrawalVerifier.sol";
import {Groth16Verifier} from "../src/WithdrawalVerifier.sol";
import {vm} from "./Cheats.sol";

/// DepositTree's internal operations, callable from the tests.
contract TreeHarness is DepositTree {
    function append(uint256 leaf) external returns (uint32 index, uint256 root) {
        return _append(leaf);
    }

    function clear(uint32 index, uint256 leaf, uint256[DEPTH] calldata siblings) external returns (uint256) {
        return _clear(index, leaf, siblings);
    }

    function zeros() external pure returns (uint256[DEPTH + 1] memory) {
        return _zeros();
    }
}

/// Assertions and the circomlibjs oracle (test/oracle.mjs) for the tests.
abstract contract Support {
    error Mismatch(string what, uint256 got, uint256 want);

    uint256 internal constant DEPTH = 20;

    IWithdrawalVerifier internal verifier;

    /// The real withdrawal verifier (snarkjs's export of the committed zkey).
    function deployVerifier() internal {
        verifier = IWithdrawalVerifier(address(new Groth16Verifier()));
    }

    function assertEq(uint256 got, uint256 want, string memory what) internal pure {
        if (got != want) {
            revert Mismatch(what, got, want);
        }
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) {
            revert Mismatch(what, 0, 1);
        }
    }

    function assertStatus(CreditDeposits.Status got, CreditDeposits.Status want, string memory what) internal pure {
        assertEq(uint8(got), uint8(want), what);
    }

    /// A call back into a deposit contract failed, and failed at its reentrancy guard.
    function assertRefusedByGuard(bool succeeded, bytes memory result) internal pure {
        assertTrue(!succeeded, "re-entry failed");
        assertEq(
            uint32(bytes4(result)),
            uint32(ReentrancyGuard.ReentrancyGuardReentrantCall.selector),
            "refused by the guard"
        );
    }

    /// A policy receipt for `target` signed with the receipt key by vm.sign.
    function signReceipt(CreditDeposits target, uint256 nullifier_, uint64 credits, uint64 issuedAt)
        internal
        view
        returns (CreditDeposits.PolicyReceipt memory)
    {
        return signReceiptWith(TestParameters.RECEIPT_KEY, target, nullifier_, credits, issuedAt);
    }

    function signReceiptWith(uint256 key, CreditDeposits target, uint256 nullifier_, uint64 credits, uint64 issuedAt)
        internal
        view
        returns (CreditDeposits.PolicyReceipt memory receipt)
    {
        bytes32 evidence = sha256(abi.encodePacked("refused by policy", nullifier_));
        bytes32 digest = target.policyReceiptDigest(nullifier_, credits, evidence, issuedAt);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        receipt = CreditDeposits.PolicyReceipt({
            nullifier: nullifier_, credits: credits, evidenceDigest: evidence, issuedAt: issuedAt, v: v, r: r, s: s
        });
    }

    function oracle(string[] memory args) internal returns (bytes memory) {
        string[] memory command = new string[](args.length + 2);
        command[0] = "node";
        command[1] = "test/oracle.mjs";
        for (uint256 i = 0; i < args.length; ++i) {
            command[i + 2] = args[i];
        }
        return vm.ffi(command);
    }

    /// circomlibjs's H over each consecutive group of `arity` inputs.
    function oracleHashes(uint256 arity, uint256[] memory inputs) internal returns (uint256[] memory) {
        string[] memory args = new string[](inputs.length + 2);
        args[0] = "hashes";
        args[1] = vm.toString(arity);
        for (uint256 i = 0; i < inputs.length; ++i) {
            args[i + 2] = vm.toString(inputs[i]);
        }
        return abi.decode(oracle(args), (uint256[]));
    }

    /// The path of leaf 0 or 1 in a tree holding at most two leaves, one of
    /// which is `other`: its sibling at level 0, empty subtrees above.
    function pathNextTo(uint256 other, uint256[DEPTH + 1] memory zeros)
        internal
        pure
        returns (uint256[DEPTH] memory path)
    {
        path[0] = other;
        for (uint256 h = 1; h < DEPTH; ++h) {
            path[h] = zeros[h];
        }
    }
}

/// The parameters the deposit tests deploy with: 1 credit = 1 gwei (or 1 token
/// base unit times 10^9), C_max 1000 credits, a bounty of 100,000 credits'
/// worth out of a minimum deposit of 1,000,000 credits; a three-day challenge
/// window, a one-year deposit lifetime and a one-day burn delay.
library TestParameters {
    uint256 internal constant PRICE = 1 gwei;
    uint64 internal constant C_MAX = 1000;
    uint64 internal constant MIN_CREDITS = 1_000_000;
    uint256 internal constant BOUNTY = 100_000 * PRICE;
    uint256 internal constant SCOPE = 0x5c0e;
    /// H(Ax, Ay) of the voucher key test/withdrawal.mjs signs with; the
    /// withdrawal tests compare it with the oracle's.
    uint256 internal constant KEY_HASH = 0x24bd6c2350d54eb7a6ec6ff3ab83fed5acbc117f351170215efc02cae9bdcff4;
    uint64 internal constant CHALLENGE_WINDOW = 3 days;
    uint64 internal constant DEPOSIT_LIFETIME = 365 days;
    uint64 internal constant BURN_DELAY = 1 days;
    /// The policy-receipt key; vm.sign signs with it.
    uint256 internal constant RECEIPT_KEY = 0x5ec2e7c0ffee;

    function get(address treasury, IWithdrawalVerifier verifier)
        internal
        pure
        returns (CreditDeposits.Parameters memory p)
    {
        uint256[] memory keyHashes = new uint256[](1);
        keyHashes[0] = KEY_HASH;
        p = CreditDeposits.Parameters({
            scope: SCOPE,
            cMax: C_MAX,
            refundKeyHashes: keyHashes,
            pricePerCredit: PRICE,
            minCredits: MIN_CREDITS,
            slashBounty: BOUNTY,
            treasury: treasury,
            withdrawalVerifier: verifier,
            challengeWindow: CHALLENGE_WINDOW,
            depositLifetime: DEPOSIT_LIFETIME,
            receiptSigner: vm.addr(RECEIPT_KEY),
            burnDelay: BURN_DELAY
        });
    }
}
