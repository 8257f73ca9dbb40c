// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CreditDeposits} from "../src/CreditDeposits.sol";
import {EtherCreditDeposits} from "../src/EtherCreditDeposits.sol";
import {IWithdrawalVerifier} from "../src/IWithdrawalVerifier.sol";
import {TestToken} from "../src/TestToken.sol";
import {TokenCreditDeposits} from "../src/TokenCreditDeposits.sol";
import {Vm, vm} from "./Cheats.sol";
import {Support, TestParameters, TreeHarness} from "./Support.sol";

/// Policy burns, the provider's bond and expiry (docs/protocol.md §3.1),
/// which need no withdrawal proof.
contract PolicyBurnTest is Support {
    uint256 constant PRICE = TestParameters.PRICE;
    uint64 constant C_MAX = TestParameters.C_MAX;
    uint256 constant K_ALICE = 0xa11ce5ec7e7;
    /// secp256k1's group order: a signature's s and n - s both verify.
    uint256 constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    EtherCreditDeposits deposits;
    uint256[21] zeros;
    address treasury = address(0x7ea5);
    address alice = address(0xa11ce);
    address stranger = address(0x5742);
    address burn;

    function setUp() public {
        vm.warp(1_700_000_000);
        deployVerifier();
        deposits = new EtherCreditDeposits(TestParameters.get(treasury, verifier));
        zeros = new TreeHarness().zeros();
        burn = deposits.BURN_ADDRESS();
    }

    /// The treasury is owed Alice's slashed deposit less the bounty.
    function owedFromASlash() internal returns (uint256 owed) {
        uint256 id = PoseidonT2.hash([K_ALICE]);
        vm.deal(alice, TestParameters.MIN_CREDITS * PRICE);
        vm.prank(alice);
        deposits.deposit{value: TestParameters.MIN_CREDITS * PRICE}(id);
        vm.prank(stranger);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        owed = deposits.treasuryOwed();
    }

    function one(CreditDeposits.PolicyReceipt memory receipt)
        internal
        pure
        returns (CreditDeposits.PolicyReceipt[] memory batch)
    {
        batch = new CreditDeposits.PolicyReceipt[](1);
        batch[0] = receipt;
    }

    function fund(uint256 amount) internal {
        vm.deal(address(this), amount);
        deposits.fundBond{value: amount}();
    }

    function test_onlyTheTreasuryBurnsBeforeTheDelayAnyoneAfter() public {
        uint256 owed = owedFromASlash();
        uint64 issued = SafeCast.toUint64(block.timestamp);
        CreditDeposits.PolicyReceipt memory receipt = signReceipt(deposits, 0x1111, C_MAX, issued);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CreditDeposits.BurnNotYetForceable.selector, 0x1111));
        deposits.burnPolicyReceipts(one(receipt));

        vm.recordLogs();
        vm.prank(treasury);
        deposits.burnPolicyReceipts(one(receipt));
        assertEq(burn.balance, C_MAX * PRICE, "C_max burned");
        assertEq(deposits.treasuryOwed(), owed - C_MAX * PRICE, "taken from what the treasury is owed");
        assertTrue(deposits.policyBurned(0x1111), "marked burned");
        assertEq(forcedFlag(vm.getRecordedLogs()), 0, "not forced");

        CreditDeposits.PolicyReceipt memory late = signReceipt(deposits, 0x2222, C_MAX, issued);
        vm.warp(issued + TestParameters.BURN_DELAY - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(CreditDeposits.BurnNotYetForceable.selector, 0x2222));
        deposits.burnPolicyReceipts(one(late));
        vm.warp(issued + TestParameters.BURN_DELAY);
        vm.recordLogs();
        vm.prank(stranger);
        deposits.burnPolicyReceipts(one(late));
        assertEq(burn.balance, 2 * C_MAX * PRICE, "the forced burn too");
        assertEq(forcedFlag(vm.getRecordedLogs()), 1, "forced");
    }

    /// The PolicyBurned event's `forced`, checking the rest of it.
    function forcedFlag(Vm.Log[] memory logs) internal view returns (uint256) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(deposits) && logs[i].topics[0] == CreditDeposits.PolicyBurned.selector) {
                (uint64 credits, bytes32 evidence, uint256 amount, bool forced) =
                    abi.decode(logs[i].data, (uint64, bytes32, uint256, bool));
                uint256 nullifier = uint256(logs[i].topics[1]);
                assertEq(credits, C_MAX, "credits");
                assertEq(amount, C_MAX * PRICE, "amount");
                assertTrue(evidence == sha256(abi.encodePacked("refused by policy", nullifier)), "evidence digest");
                return forced ? 1 : 0;
            }
        }
        revert Mismatch("no PolicyBurned event", 0, 1);
    }

    function test_aReceiptBurnsOnce() public {
        owedFromASlash();
        CreditDeposits.PolicyReceipt memory receipt =
            signReceipt(deposits, 0x1111, C_MAX, SafeCast.toUint64(block.timestamp));
        vm.prank(treasury);
        deposits.burnPolicyReceipts(one(receipt));
        vm.prank(treasury);
        vm.expectRevert(abi.encodeWithSelector(CreditDeposits.ReceiptAlreadyBurned.selector, 0x1111));
        deposits.burnPolicyReceipts(one(receipt));

        CreditDeposits.PolicyReceipt[] memory twice = new CreditDeposits.PolicyReceipt[](2);
        twice[0] = signReceipt(deposits, 0x3333, C_MAX, SafeCast.toUint64(block.timestamp));
        twice[1] = twice[0];
        vm.prank(treasury);
        vm.expectRevert(abi.encodeWithSelector(CreditDeposits.ReceiptAlreadyBurned.selector, 0x3333));
        deposits.burnPolicyReceipts(twice);
        assertTrue(!deposits.policyBurned(0x3333), "the batch reverted whole");
        assertEq(burn.balance, C_MAX * PRICE, "one burn");
    }

    function test_aReceiptNeedsTheProvidersSignature() public {
        owedFromASlash();
        uint64 issued = SafeCast.toUint64(block.timestamp);
        CreditDeposits.PolicyReceipt[5] memory bad;
        bad[0] = signReceiptWith(0xbad, deposits, 0x1111, C_MAX, issued);
        bad[1] = signReceipt(deposits, 0x1111, C_MAX, issued);
        bad[1].credits = 2 * C_MAX;
        // The same signature with s replaced by n - s (and v flipped)
        // recovers the same key; EIP-2 allows only the low s.
        bad[2] = signReceipt(deposits, 0x1111, C_MAX, issued);
        bad[2].s = bytes32(SECP256K1_N - uint256(bad[2].s));
        bad[2].v = bad[2].v == 27 ? 28 : 27;
        bad[3] = signReceipt(deposits, 0x1111, C_MAX, issued);
        bad[3].v = 29;
        // Signed for another deployment.
        EtherCreditDeposits other = new EtherCreditDeposits(TestParameters.get(treasury, verifier));
        bad[4] = signReceipt(other, 0x1111, C_MAX, issued);
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(treasury);
            vm.expectRevert(abi.encodeWithSelector(CreditDeposits.BadReceiptSignature.selector, 0x1111));
            deposits.burnPolicyReceipts(one(bad[i]));
        }
        assertEq(burn.balance, 0, "nothing burned");
    }

    function test_burnsTakeWhatTheTreasuryIsOwedThenTheBond() public {
        fund(5 * C_MAX * PRICE);
        CreditDeposits.PolicyReceipt[] memory batch = new CreditDeposits.PolicyReceipt[](3);
        for (uint256 i = 0; i < 3; ++i) {
            batch[i] = signReceipt(deposits, 0x1000 + i, C_MAX, SafeCast.toUint64(block.timestamp));
        }
        vm.prank(treasury);
        deposits.burnPolicyReceipts(batch);
        assertEq(deposits.providerBond(), 2 * C_MAX * PRICE, "nothing owed: all from the bond");

        uint256 owed = owedFromASlash();
        batch = new CreditDeposits.PolicyReceipt[](1);
        batch[0] =
            signReceipt(deposits, 0x2000, SafeCast.toUint64(owed / PRICE + C_MAX), SafeCast.toUint64(block.timestamp));
        vm.prank(treasury);
        deposits.burnPolicyReceipts(batch);
        assertEq(deposits.treasuryOwed(), 0, "all that was owed");
        assertEq(deposits.providerBond(), C_MAX * PRICE, "and the rest from the bond");
        assertEq(burn.balance, 4 * C_MAX * PRICE + owed, "burned");
        assertEq(address(deposits).balance, C_MAX * PRICE, "the bond is all that is left");
    }

    function test_aBurnNeitherCanCoverReverts() public {
        fund(C_MAX * PRICE - 1);
        CreditDeposits.PolicyReceipt memory receipt =
            signReceipt(deposits, 0x1111, C_MAX, SafeCast.toUint64(block.timestamp));
        vm.warp(block.timestamp + TestParameters.BURN_DELAY);
        vm.prank(stranger);
        vm.expectRevert(CreditDeposits.InsufficientFundsForBurn.selector);
        deposits.burnPolicyReceipts(one(receipt));
        assertTrue(!deposits.policyBurned(0x1111), "not burned");
        fund(1);
        vm.prank(stranger);
        deposits.burnPolicyReceipts(one(receipt));
        assertEq(deposits.providerBond(), 0, "the bond covered it");
    }

    function test_anUnusedDepositExpiresToTheTreasury() public {
        uint256 id = PoseidonT2.hash([K_ALICE]);
        vm.deal(alice, TestParameters.MIN_CREDITS * PRICE);
        vm.prank(alice);
        deposits.deposit{value: TestParameters.MIN_CREDITS * PRICE}(id);
        uint256 expiry = block.timestamp + TestParameters.DEPOSIT_LIFETIME;
        vm.warp(expiry - 1);
        vm.expectRevert(CreditDeposits.DepositNotExpired.selector);
        deposits.claimExpired(id, pathNextTo(0, zeros));
        vm.warp(expiry);
        vm.prank(stranger);
        deposits.claimExpired(id, pathNextTo(0, zeros));
        assertStatus(deposits.depositOf(id).status, CreditDeposits.Status.Expired, "expired");
        assertEq(deposits.treasuryOwed(), TestParameters.MIN_CREDITS * PRICE, "all of it owed to the treasury");
        (, uint256 root) = new TreeHarness().append(0);
        assertEq(deposits.currentRoot(), root, "leaf cleared");
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.claimExpired(id, pathNextTo(0, zeros));
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.claimExpired(id + 1, pathNextTo(0, zeros));
    }

    function test_theSettlementParametersAreRequired() public {
        CreditDeposits.Parameters memory p = TestParameters.get(treasury, verifier);
        p.withdrawalVerifier = IWithdrawalVerifier(address(0));
        vm.expectRevert(CreditDeposits.InvalidParameters.selector);
        new EtherCreditDeposits(p);
        p = TestParameters.get(treasury, verifier);
        p.challengeWindow = 0;
        vm.expectRevert(CreditDeposits.InvalidParameters.selector);
        new EtherCreditDeposits(p);
        p = TestParameters.get(treasury, verifier);
        p.depositLifetime = 0;
        vm.expectRevert(CreditDeposits.InvalidParameters.selector);
        new EtherCreditDeposits(p);
        p = TestParameters.get(treasury, verifier);
        p.receiptSigner = address(0);
        vm.expectRevert(CreditDeposits.InvalidParameters.selector);
        new EtherCreditDeposits(p);
        assertEq(uint160(deposits.receiptSigner()), uint160(vm.addr(TestParameters.RECEIPT_KEY)), "signer readable");
        assertEq(deposits.burnDelay(), TestParameters.BURN_DELAY, "burn delay readable");
    }

    function test_aTokenBondBacksBurns() public {
        TestToken token = new TestToken();
        TokenCreditDeposits tokenDeposits = new TokenCreditDeposits(token, TestParameters.get(treasury, verifier));
        token.mint(address(this), 2 * C_MAX * PRICE);
        token.approve(address(tokenDeposits), 2 * C_MAX * PRICE);
        tokenDeposits.fundBond(2 * C_MAX * PRICE);
        assertEq(tokenDeposits.providerBond(), 2 * C_MAX * PRICE, "bonded");
        CreditDeposits.PolicyReceipt memory receipt =
            signReceipt(tokenDeposits, 0x1111, C_MAX, SafeCast.toUint64(block.timestamp));
        vm.warp(block.timestamp + TestParameters.BURN_DELAY);
        vm.prank(stranger);
        tokenDeposits.burnPolicyReceipts(one(receipt));
        assertEq(token.balanceOf(burn), C_MAX * PRICE, "burned in tokens");
        assertEq(token.balanceOf(address(tokenDeposits)), tokenDeposits.providerBond(), "the rest of the bond held");
    }
}

/// burnPolicyReceipts in batches of 1 and 10, alone, for the gas report
/// (bench/README.md): forge test --gas-report --match-contract PolicyBurnGas.
contract PolicyBurnGasTest is Support {
    EtherCreditDeposits deposits;
    address treasury = address(0x7ea5);

    function setUp() public {
        vm.warp(1_700_000_000);
        deployVerifier();
        deposits = new EtherCreditDeposits(TestParameters.get(treasury, verifier));
        vm.deal(address(this), 1 ether);
        deposits.fundBond{value: 1 ether}();
    }

    function burnBatch(uint256 size) internal {
        CreditDeposits.PolicyReceipt[] memory batch = new CreditDeposits.PolicyReceipt[](size);
        for (uint256 i = 0; i < size; ++i) {
            batch[i] = signReceipt(deposits, 0x1000 + i, TestParameters.C_MAX, SafeCast.toUint64(block.timestamp));
        }
        vm.prank(treasury);
        deposits.burnPolicyReceipts(batch);
        assertEq(deposits.BURN_ADDRESS().balance, size * TestParameters.C_MAX * TestParameters.PRICE, "burned");
    }

    function test_burnABatchOfOne() public {
        burnBatch(1);
    }

    function test_burnABatchOfTen() public {
        burnBatch(10);
    }
}
