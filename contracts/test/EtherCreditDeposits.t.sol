// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";

import {CreditDeposits} from "../src/CreditDeposits.sol";
import {EtherCreditDeposits} from "../src/EtherCreditDeposits.sol";
import {vm} from "./Cheats.sol";
import {Support, TestParameters, TreeHarness} from "./Support.sol";

/// A slasher or treasury that, when paid, calls back into the contract
/// (recording how the call ended) or refuses the payment.
contract Reentrant {
    EtherCreditDeposits public target;
    bytes public callback;
    bool public refuse;
    bool public callbackSucceeded;
    bytes public callbackResult;

    /// The target may be set later: a treasury exists before its contract.
    function setTarget(EtherCreditDeposits target_) external {
        target = target_;
    }

    function setCallback(bytes calldata data) external {
        callback = data;
    }

    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    function slash(uint256 k, uint256[20] calldata path) external {
        target.slash(k, path);
    }

    function challenge(uint256 id, uint256 x, uint256 y) external {
        target.challenge(id, x, y);
    }

    function claimHeldPayout(address to) external {
        target.claimHeldPayout(to);
    }

    receive() external payable {
        require(!refuse, "payment refused");
        if (callback.length != 0) {
            (callbackSucceeded, callbackResult) = address(target).call(callback);
        }
    }
}

contract EtherCreditDepositsTest is Support {
    EtherCreditDeposits deposits;
    uint256[21] zeros;
    address treasury = address(0x7ea5);
    address alice = address(0xa11ce);
    address bob = address(0xb0b);
    address hunter = address(0x4a7);

    uint256 constant K_ALICE = 0xa11ce5ec7e7;
    uint256 constant K_BOB = 0xb0b5ec7e7;
    uint256 constant PRICE = TestParameters.PRICE;

    function setUp() public {
        deployVerifier();
        deposits = new EtherCreditDeposits(TestParameters.get(treasury, verifier));
        zeros = new TreeHarness().zeros();
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
    }

    function identity(uint256 k) internal pure returns (uint256) {
        return PoseidonT2.hash([k]);
    }

    function deposit(address who, uint256 k, uint256 credits) internal returns (uint256 leaf) {
        uint256 id = identity(k);
        leaf = PoseidonT3.hash([id, credits]);
        vm.prank(who);
        deposits.deposit{value: credits * PRICE}(id);
    }

    function test_parametersAreReadable() public view {
        assertEq(deposits.scope(), TestParameters.SCOPE, "scope");
        assertEq(deposits.cMax(), TestParameters.C_MAX, "cMax");
        assertEq(deposits.pricePerCredit(), PRICE, "price");
        assertEq(deposits.minCredits(), TestParameters.MIN_CREDITS, "minCredits");
        assertEq(deposits.slashBounty(), TestParameters.BOUNTY, "bounty");
        assertEq(uint160(deposits.treasury()), uint160(treasury), "treasury");
        uint256[] memory keyHashes = deposits.refundKeyHashes();
        assertEq(keyHashes.length, 1, "key hashes");
        assertEq(keyHashes[0], TestParameters.KEY_HASH, "key hash");
        assertEq(deposits.DEPTH(), 20, "depth");
    }

    function test_depositBindsTheCreditsPaidForIntoTheLeaf() public {
        uint256 leaf = deposit(alice, K_ALICE, 2_000_000);
        CreditDeposits.Deposit memory d = deposits.depositOf(identity(K_ALICE));
        assertEq(d.credits, 2_000_000, "credits = paid / price");
        assertEq(d.leafIndex, 0, "first leaf");
        assertStatus(d.status, CreditDeposits.Status.Active, "active");
        assertEq(d.depositedAt, block.timestamp, "deposited now");
        (, uint256 root) = new TreeHarness().append(leaf);
        assertEq(deposits.currentRoot(), root, "root of the one leaf H(H(k), D)");
    }

    function test_refusesDuplicateIdentityEvenAfterSlash() public {
        deposit(alice, K_ALICE, 1_000_000);
        uint256 id = identity(K_ALICE);
        vm.prank(bob);
        vm.expectRevert(CreditDeposits.IdentityTaken.selector);
        deposits.deposit{value: 1_000_000 * PRICE}(id);

        vm.prank(hunter);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        vm.prank(alice);
        vm.expectRevert(CreditDeposits.IdentityTaken.selector);
        deposits.deposit{value: 1_000_000 * PRICE}(id);
    }

    function test_refusesBadAmountsAndIdentities() public {
        uint256 id = identity(K_ALICE);
        vm.prank(alice);
        vm.expectRevert(CreditDeposits.DepositTooSmall.selector);
        deposits.deposit{value: (TestParameters.MIN_CREDITS - 1) * PRICE}(id);
        vm.prank(alice);
        vm.expectRevert(CreditDeposits.AmountNotWholeCredits.selector);
        deposits.deposit{value: TestParameters.MIN_CREDITS * PRICE + 1}(id);
        uint256 modulus = deposits.FIELD_MODULUS();
        vm.prank(alice);
        vm.expectRevert(CreditDeposits.NotAFieldElement.selector);
        deposits.deposit{value: TestParameters.MIN_CREDITS * PRICE}(modulus);
        vm.deal(alice, (uint256(type(uint64).max) + 1) * PRICE);
        vm.prank(alice);
        vm.expectRevert(CreditDeposits.DepositTooLarge.selector);
        deposits.deposit{value: (uint256(type(uint64).max) + 1) * PRICE}(id);
        assertEq(deposits.leafCount(), 0, "nothing registered");
    }

    function test_slashPaysTheBountyAndOwesTheRestToTheTreasury() public {
        deposit(alice, K_ALICE, 3_000_000);
        uint256 leafBob = deposit(bob, K_BOB, 1_000_000);
        uint256 rootBefore = deposits.currentRoot();

        vm.prank(hunter);
        deposits.slash(K_ALICE, pathNextTo(leafBob, zeros));

        assertEq(hunter.balance, TestParameters.BOUNTY, "bounty to the caller");
        assertEq(deposits.treasuryOwed(), 3_000_000 * PRICE - TestParameters.BOUNTY, "rest owed to the treasury");
        assertStatus(deposits.depositOf(identity(K_ALICE)).status, CreditDeposits.Status.Slashed, "slashed");
        // The tree now holds only Bob's leaf, at index 1.
        TreeHarness expected = new TreeHarness();
        expected.append(0);
        (, uint256 root) = expected.append(leafBob);
        assertEq(deposits.currentRoot(), root, "leaf set to 0");
        assertTrue(deposits.isKnownRoot(rootBefore), "the old root stays in the history");

        deposits.payTreasury();
        assertEq(treasury.balance, 3_000_000 * PRICE - TestParameters.BOUNTY, "treasury paid");
        assertEq(deposits.treasuryOwed(), 0, "nothing owed");
    }

    function test_slashRefusesWrongKeySecondSlashAndStalePath() public {
        uint256 leafAlice = deposit(alice, K_ALICE, 1_000_000);
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.slash(K_ALICE + 1, pathNextTo(0, zeros));
        uint256 aliasOfK = K_ALICE + deposits.FIELD_MODULUS();
        vm.expectRevert(CreditDeposits.NotAFieldElement.selector);
        deposits.slash(aliasOfK, pathNextTo(0, zeros));

        uint256[20] memory alicePath = pathNextTo(0, zeros);
        deposit(bob, K_BOB, 1_000_000);
        // A deposit mined in between makes the path stale.
        vm.expectRevert(bytes4(keccak256("StalePath()")));
        deposits.slash(K_ALICE, alicePath);

        vm.prank(hunter);
        deposits.slash(K_BOB, pathNextTo(leafAlice, zeros));
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.slash(K_BOB, pathNextTo(leafAlice, zeros));
    }

    /// The chain knows no confirmations: a deposit can be slashed in the
    /// block that made it (only its owner knows k then: a self-slash, which
    /// loses the deposit less the bounty). Followers see both events in order.
    function test_slashInTheDepositsOwnBlock() public {
        uint256 balanceBefore = alice.balance;
        deposit(alice, K_ALICE, 1_000_000);
        vm.prank(alice);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        assertEq(balanceBefore - alice.balance, 1_000_000 * PRICE - TestParameters.BOUNTY, "self-slash keeps only the bounty");
        assertEq(deposits.currentRoot(), rootOfZeroLeaf(), "root of a tree whose one leaf is 0");
    }

    function rootOfZeroLeaf() internal returns (uint256 root) {
        (, root) = new TreeHarness().append(0);
    }

    function test_reentryFromEveryPayoutIsRefused() public {
        deposit(alice, K_ALICE, 1_000_000);
        uint256 leafBob = deposit(bob, K_BOB, 1_000_000);
        Reentrant attacker = new Reentrant();
        attacker.setTarget(deposits);
        attacker.setCallback(abi.encodeCall(CreditDeposits.slash, (K_BOB, pathNextTo(0, zeros))));
        attacker.slash(K_ALICE, pathNextTo(leafBob, zeros));
        assertReentryRefused(attacker);
        assertStatus(
            deposits.depositOf(identity(K_BOB)).status, CreditDeposits.Status.Active, "the re-entered slash did nothing"
        );
        assertEq(address(attacker).balance, TestParameters.BOUNTY, "one bounty");

        // The treasury's payout, re-entering payTreasury and deposit.
        Reentrant hostileTreasury = new Reentrant();
        EtherCreditDeposits other = new EtherCreditDeposits(TestParameters.get(address(hostileTreasury), verifier));
        hostileTreasury.setTarget(other);
        uint256 id = identity(K_ALICE);
        vm.prank(alice);
        other.deposit{value: 1_000_000 * PRICE}(id);
        vm.prank(hunter);
        other.slash(K_ALICE, pathNextTo(0, zeros));
        bytes[2] memory callbacks =
            [abi.encodeCall(CreditDeposits.payTreasury, ()), abi.encodeCall(EtherCreditDeposits.deposit, (identity(0x5ec)))];
        for (uint256 i = 0; i < callbacks.length; ++i) {
            hostileTreasury.setCallback(callbacks[i]);
            other.payTreasury();
            assertReentryRefused(hostileTreasury);
            assertEq(address(hostileTreasury).balance, 1_000_000 * PRICE - TestParameters.BOUNTY, "paid once");
            assertEq(other.treasuryOwed(), 0, "nothing left owed");
        }
    }

    function assertReentryRefused(Reentrant r) internal view {
        assertRefusedByGuard(r.callbackSucceeded(), r.callbackResult());
    }

    function test_aTreasuryThatRefusesBlocksOnlyItsOwnPayout() public {
        Reentrant refusing = new Reentrant();
        refusing.setRefuse(true);
        EtherCreditDeposits withBadTreasury = new EtherCreditDeposits(TestParameters.get(address(refusing), verifier));
        uint256 id = identity(K_ALICE);
        vm.prank(alice);
        withBadTreasury.deposit{value: 1_000_000 * PRICE}(id);
        vm.prank(hunter);
        withBadTreasury.slash(K_ALICE, pathNextTo(0, zeros));
        assertEq(hunter.balance, TestParameters.BOUNTY, "the slash is paid");
        vm.expectRevert(CreditDeposits.PayoutFailed.selector);
        withBadTreasury.payTreasury();
        assertEq(withBadTreasury.treasuryOwed(), 1_000_000 * PRICE - TestParameters.BOUNTY, "still owed");
    }

    /// Every unit paid in is held for an active deposit, owed to the
    /// treasury, or paid out to a slasher or the treasury.
    function testFuzz_everyUnitIsAccountedFor(uint64 aliceExtra, uint64 bobExtra, bool payTreasury) public {
        uint256 creditsAlice = TestParameters.MIN_CREDITS + aliceExtra % 1e12;
        uint256 creditsBob = TestParameters.MIN_CREDITS + bobExtra % 1e12;
        vm.deal(alice, creditsAlice * PRICE);
        vm.deal(bob, creditsBob * PRICE);
        deposit(alice, K_ALICE, creditsAlice);
        uint256 leafBob = deposit(bob, K_BOB, creditsBob);
        uint256 paidIn = (creditsAlice + creditsBob) * PRICE;
        assertEq(address(deposits).balance, paidIn, "all held");

        vm.prank(hunter);
        deposits.slash(K_ALICE, pathNextTo(leafBob, zeros));
        if (payTreasury) {
            deposits.payTreasury();
        }
        uint256 activeHeld = creditsBob * PRICE;
        assertEq(
            address(deposits).balance,
            activeHeld + deposits.treasuryOwed(),
            "the contract holds exactly the active deposits and what the treasury is owed"
        );
        assertEq(
            address(deposits).balance + hunter.balance + treasury.balance, paidIn, "nothing created or lost"
        );
        assertEq(
            hunter.balance + deposits.treasuryOwed() + treasury.balance,
            creditsAlice * PRICE,
            "bounty + treasury share = the slashed deposit"
        );
    }
}
