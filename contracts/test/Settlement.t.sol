// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CreditDeposits} from "../src/CreditDeposits.sol";
import {DepositTree} from "../src/DepositTree.sol";
import {EtherCreditDeposits} from "../src/EtherCreditDeposits.sol";
import {TokenCreditDeposits} from "../src/TokenCreditDeposits.sol";
import {Vm, vm} from "./Cheats.sol";
import {Reentrant} from "./EtherCreditDeposits.t.sol";
import {Support, TestParameters, TreeHarness} from "./Support.sol";
import {HookToken} from "./TokenCreditDeposits.t.sol";

/// Alice's deposit and one real withdrawal proof of it (test/withdrawal.mjs),
/// shared by the settlement tests of both assets.
///
/// Alice deposits 2,000,000 credits, Bob 1,000,000 after her. Her refund
/// chain used tickets 0, 1 and 2 and was refunded 1,100 credits in all (a
/// last voucher of 400 on 700): the proof says n = 3, R = 1,100 and gives the
/// share of ticket 3 for the withdrawal to `recipient`. The provider is owed
/// n*C_max - R = 1,900 credits and Alice gets the other 1,998,100 back.
/// Whether ticket 3 was spent decides whether the same proof is honest or
/// understates n: `spentShare` is ticket 3's share of a request, which the
/// provider's watcher holds when it was.
abstract contract SettlementFixture is Support {
    uint256 constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 constant BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 constant PRICE = TestParameters.PRICE;
    uint256 constant K_ALICE = 0xa11ce5ec7e7;
    uint256 constant K_BOB = 0xb0b5ec7e7;
    uint64 constant ALICE_CREDITS = 2_000_000;
    uint64 constant BOB_CREDITS = 1_000_000;
    uint32 constant TICKETS = 3;
    uint64 constant REFUND_PREV = 700;
    uint64 constant REFUND = 400;
    uint64 constant REFUND_TOTAL = REFUND_PREV + REFUND;
    uint256 constant CHARGED = TICKETS * TestParameters.C_MAX - REFUND_TOTAL;
    /// The x of the request that spent ticket 3, when it was spent.
    uint256 constant X_REQUEST = 0x2e0a5e11a7e5a6b1e0c0ffee;

    address treasury = address(0x7ea5);
    address alice = address(0xa11ce);
    address bob = address(0xb0b);
    address hunter = address(0x4a7);
    address recipient = address(0xa11ce2);
    CreditDeposits deposits;
    uint256[21] zeros;
    uint256 idAlice = PoseidonT2.hash([K_ALICE]);
    uint256 leafAlice = PoseidonT3.hash([idAlice, ALICE_CREDITS]);
    uint256 leafBob = PoseidonT3.hash([PoseidonT2.hash([K_BOB]), BOB_CREDITS]);

    uint256[8] proof;
    uint256[8] publicInputs;
    uint256 oracleKeyHash;
    /// Ticket 3's share at X_REQUEST of Alice, of Bob, and Alice's ticket 2's.
    uint256 spentShare;
    uint256 bobsShare;
    uint256 otherTicketsShare;

    function deploy() internal virtual returns (CreditDeposits);
    function pay(address who, uint256 k, uint256 credits) internal virtual;
    function balanceOf(address who) internal view virtual returns (uint256);

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        deployVerifier();
        deposits = deploy();
        zeros = new TreeHarness().zeros();
        pay(alice, K_ALICE, ALICE_CREDITS);
        pay(bob, K_BOB, BOB_CREDITS);

        uint256[3][] memory shares = new uint256[3][](3);
        shares[0] = [K_ALICE, TICKETS, X_REQUEST];
        shares[1] = [K_BOB, TICKETS, X_REQUEST];
        shares[2] = [K_ALICE, 2, X_REQUEST];
        uint256[] memory computed;
        (proof, publicInputs, oracleKeyHash, computed) =
            proveWithdrawal(K_ALICE, TICKETS, REFUND_PREV, REFUND, recipient, shares);
        (spentShare, bobsShare, otherTicketsShare) = (computed[0], computed[1], computed[2]);
    }

    /// test/withdrawal.mjs: a proof that k's chain used `tickets` tickets
    /// (the last voucher `refund` on `refundPrev`), for a withdrawal to
    /// `to`, and the shares asked for as (k, ticket, x).
    function proveWithdrawal(
        uint256 k,
        uint256 tickets,
        uint256 refundPrev,
        uint256 refund,
        address to,
        uint256[3][] memory shares
    ) internal returns (uint256[8] memory, uint256[8] memory, uint256, uint256[] memory) {
        string[] memory command = new string[](8 + 3 * shares.length);
        command[0] = "node";
        command[1] = "test/withdrawal.mjs";
        command[2] = vm.toString(k);
        command[3] = vm.toString(TestParameters.SCOPE);
        command[4] = vm.toString(tickets);
        command[5] = vm.toString(refundPrev);
        command[6] = vm.toString(refund);
        command[7] = vm.toString(deposits.withdrawalBinding(to));
        for (uint256 i = 0; i < shares.length; ++i) {
            for (uint256 j = 0; j < 3; ++j) {
                command[8 + 3 * i + j] = vm.toString(shares[i][j]);
            }
        }
        return abi.decode(vm.ffi(command), (uint256[8], uint256[8], uint256, uint256[]));
    }

    function nullifier() internal view returns (uint256) {
        return publicInputs[6];
    }

    function share() internal view returns (uint256) {
        return publicInputs[7];
    }

    /// Alice's leaf is 0 and Bob's leaf is its neighbour.
    function alicePath() internal view returns (uint256[DEPTH] memory) {
        return pathNextTo(leafBob, zeros);
    }

    function request(address to, uint32 tickets, uint64 refundTotal, uint256 keyHash, uint256[8] memory p) internal {
        deposits.requestWithdrawal(idAlice, to, tickets, refundTotal, keyHash, nullifier(), share(), p, alicePath());
    }

    function requestAsProved() internal {
        request(recipient, TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
    }

    function deadline() internal view returns (uint256) {
        return deposits.withdrawalOf(idAlice).deadline;
    }

    function status(uint256 id) internal view returns (CreditDeposits.Status) {
        return deposits.depositOf(id).status;
    }

    function rootWithLeaves(uint256 first, uint256 second) internal returns (uint256 root) {
        TreeHarness expected = new TreeHarness();
        expected.append(first);
        (, root) = expected.append(second);
    }

    /// The contract holds exactly the active and withdrawing deposits, what
    /// the treasury is owed, the bond and the payouts held for recipients.
    function assertSolvent(uint256 held) internal view {
        assertEq(
            balanceOf(address(deposits)),
            held + deposits.treasuryOwed() + deposits.providerBond() + deposits.heldPayoutsTotal(),
            "balance = held + treasuryOwed + providerBond + held payouts"
        );
    }

    function test_theOracleProvesForThisDeployment() public view {
        assertEq(oracleKeyHash, TestParameters.KEY_HASH, "the voucher key is the accepted one");
        assertEq(publicInputs[0], idAlice, "id");
        assertEq(publicInputs[1], TestParameters.SCOPE, "scope");
        assertEq(publicInputs[3], TICKETS, "tickets");
        assertEq(publicInputs[4], REFUND_TOTAL, "refund total");
        assertEq(publicInputs[5], deposits.withdrawalBinding(recipient), "x");
    }

    function test_withdrawalPaysBothSidesAfterTheWindow() public {
        uint256 rootBefore = deposits.currentRoot();
        requestAsProved();
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawing, "withdrawing");
        assertEq(deposits.currentRoot(), rootWithLeaves(0, leafBob), "Alice's leaf is 0 at once");
        assertTrue(deposits.isKnownRoot(rootBefore), "older roots stay in the history");
        CreditDeposits.Withdrawal memory pending = deposits.withdrawalOf(idAlice);
        assertEq(uint160(pending.recipient), uint160(recipient), "recipient");
        assertEq(pending.tickets, TICKETS, "tickets");
        assertEq(pending.refundTotal, REFUND_TOTAL, "refund total");
        assertEq(pending.y, share(), "share");
        assertEq(pending.deadline, block.timestamp + TestParameters.CHALLENGE_WINDOW, "deadline");
        assertSolvent(uint256(ALICE_CREDITS + BOB_CREDITS) * PRICE);

        vm.warp(deadline() + 1);
        vm.prank(hunter);
        deposits.finalizeWithdrawal(idAlice);
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawn, "withdrawn");
        assertEq(balanceOf(recipient), (ALICE_CREDITS - CHARGED) * PRICE, "D + R - n*C_max to the recipient");
        assertEq(deposits.treasuryOwed(), CHARGED * PRICE, "n*C_max - R owed to the provider");
        assertEq(balanceOf(hunter), 0, "the caller gets nothing");
        assertEq(deposits.withdrawalOf(idAlice).deadline, 0, "the record is gone");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
        deposits.payTreasury();
        assertEq(balanceOf(treasury), CHARGED * PRICE, "paid to the treasury");
    }

    /// Ticket 3 was spent by a request: the withdrawal understated n, and
    /// the request's share reveals k.
    function test_aChallengeInTheWindowRecoversKAndSlashes() public {
        requestAsProved();
        vm.warp(deadline());
        vm.recordLogs();
        vm.prank(hunter);
        deposits.challenge(idAlice, X_REQUEST, spentShare);
        assertStatus(status(idAlice), CreditDeposits.Status.Slashed, "slashed");
        assertEq(balanceOf(hunter), TestParameters.BOUNTY, "the bounty to the challenger");
        assertEq(deposits.treasuryOwed(), ALICE_CREDITS * PRICE - TestParameters.BOUNTY, "the rest to the provider");
        assertEq(balanceOf(recipient), 0, "nothing to the recipient");
        assertEq(recoveredK(vm.getRecordedLogs()), K_ALICE, "the Slashed event names k");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);

        vm.warp(block.timestamp + 1);
        vm.expectRevert(CreditDeposits.NoPendingWithdrawal.selector);
        deposits.finalizeWithdrawal(idAlice);
    }

    function recoveredK(Vm.Log[] memory logs) internal view returns (uint256) {
        bytes32 slashed = CreditDeposits.Slashed.selector;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(deposits) && logs[i].topics[0] == slashed) {
                assertEq(uint256(logs[i].topics[1]), idAlice, "slashed id");
                (, uint256 k,,,,) = abi.decode(logs[i].data, (uint32, uint256, uint256, address, uint256, uint256));
                return k;
            }
        }
        revert Mismatch("no Slashed event", 0, 1);
    }

    function test_aChallengeAfterTheWindowIsRefused() public {
        requestAsProved();
        vm.warp(deadline() + 1);
        vm.expectRevert(CreditDeposits.ChallengeWindowOver.selector);
        deposits.challenge(idAlice, X_REQUEST, spentShare);
        deposits.finalizeWithdrawal(idAlice);
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawn, "the withdrawal stands");
    }

    function test_aChallengeWithAShareThatIsNotTheOwnersIsRefused() public {
        vm.expectRevert(CreditDeposits.NoPendingWithdrawal.selector);
        deposits.challenge(idAlice, X_REQUEST, spentShare);
        requestAsProved();
        vm.expectRevert(CreditDeposits.NotTheOwnersShare.selector);
        deposits.challenge(idAlice, X_REQUEST, bobsShare);
        vm.expectRevert(CreditDeposits.NotTheOwnersShare.selector);
        deposits.challenge(idAlice, X_REQUEST, otherTicketsShare);
        uint256 x1 = deposits.withdrawalBinding(recipient);
        vm.expectRevert(CreditDeposits.SameBinding.selector);
        deposits.challenge(idAlice, x1, share());
        vm.expectRevert(CreditDeposits.NotAFieldElement.selector);
        deposits.challenge(idAlice, X_REQUEST + R, spentShare);
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawing, "still withdrawing");
    }

    function test_finalizeBeforeTheDeadlineAndTwiceIsRefused() public {
        vm.expectRevert(CreditDeposits.NoPendingWithdrawal.selector);
        deposits.finalizeWithdrawal(idAlice);
        requestAsProved();
        vm.warp(deadline());
        vm.expectRevert(CreditDeposits.ChallengeWindowOpen.selector);
        deposits.finalizeWithdrawal(idAlice);
        vm.warp(deadline() + 1);
        deposits.finalizeWithdrawal(idAlice);
        vm.expectRevert(CreditDeposits.NoPendingWithdrawal.selector);
        deposits.finalizeWithdrawal(idAlice);
        assertEq(balanceOf(recipient), (ALICE_CREDITS - CHARGED) * PRICE, "paid once");
    }

    function test_aRequestNeedsAnActiveDepositWithinItsLifetime() public {
        // Unknown.
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.requestWithdrawal(
            idAlice + 1,
            recipient,
            TICKETS,
            REFUND_TOTAL,
            TestParameters.KEY_HASH,
            nullifier(),
            share(),
            proof,
            alicePath()
        );
        // Withdrawing, then withdrawn.
        requestAsProved();
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        requestAsProved();
        vm.warp(deadline() + 1);
        deposits.finalizeWithdrawal(idAlice);
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        requestAsProved();
    }

    function test_aSlashedDepositCannotBeWithdrawn() public {
        vm.prank(hunter);
        deposits.slash(K_ALICE, alicePath());
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        requestAsProved();
    }

    function test_anExpiredDepositCannotBeWithdrawn() public {
        vm.warp(deposits.depositOf(idAlice).depositedAt + TestParameters.DEPOSIT_LIFETIME);
        vm.expectRevert(CreditDeposits.DepositLifetimeOver.selector);
        requestAsProved();
        deposits.claimExpired(idAlice, alicePath());
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        requestAsProved();
    }

    function test_aRequestJustBeforeTheLifetimeEndsGoesThrough() public {
        vm.warp(deposits.depositOf(idAlice).depositedAt + TestParameters.DEPOSIT_LIFETIME - 1);
        requestAsProved();
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawing, "withdrawing");
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.claimExpired(idAlice, alicePath());
    }

    function test_aRequestMustMatchItsProof() public {
        // -A for A: still a curve point (an off-curve one would only make the
        // precompile fail), now of a proof of nothing.
        uint256[8] memory corrupted = proof;
        corrupted[1] = BN254_BASE_FIELD - corrupted[1];
        vm.expectRevert(CreditDeposits.InvalidWithdrawalProof.selector);
        request(recipient, TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH, corrupted);
        // Another recipient is another x: a relayer cannot redirect the payout.
        vm.expectRevert(CreditDeposits.InvalidWithdrawalProof.selector);
        request(hunter, TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
        // Fewer tickets or more refund than proved.
        vm.expectRevert(CreditDeposits.InvalidWithdrawalProof.selector);
        request(recipient, TICKETS - 1, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
        vm.expectRevert(CreditDeposits.InvalidWithdrawalProof.selector);
        request(recipient, TICKETS, REFUND_TOTAL + 1, TestParameters.KEY_HASH, proof);
        vm.expectRevert(CreditDeposits.InvalidWithdrawalProof.selector);
        deposits.requestWithdrawal(
            idAlice,
            recipient,
            TICKETS,
            REFUND_TOTAL,
            TestParameters.KEY_HASH,
            nullifier() + 1,
            share(),
            proof,
            alicePath()
        );
        assertStatus(status(idAlice), CreditDeposits.Status.Active, "still active");
    }

    function test_aRequestMustBePayable() public {
        vm.expectRevert(CreditDeposits.UnknownRefundKey.selector);
        request(recipient, TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH + 1, proof);
        vm.expectRevert(CreditDeposits.ZeroRecipient.selector);
        request(address(0), TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
        // More charged than the deposit and its refunds cover.
        uint32 tooMany = uint32((ALICE_CREDITS + REFUND_TOTAL) / TestParameters.C_MAX + 1);
        vm.expectRevert(CreditDeposits.TicketsExceedCredit.selector);
        request(recipient, tooMany, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
        // More refunded than charged.
        vm.expectRevert(CreditDeposits.RefundExceedsCharges.selector);
        request(recipient, 1, REFUND_TOTAL, TestParameters.KEY_HASH, proof);
        vm.expectRevert(CreditDeposits.NotAFieldElement.selector);
        deposits.requestWithdrawal(
            idAlice,
            recipient,
            TICKETS,
            REFUND_TOTAL,
            TestParameters.KEY_HASH,
            nullifier(),
            share() + R,
            proof,
            alicePath()
        );
    }

    function test_aRequestWithAStalePathIsRefused() public {
        uint256[DEPTH] memory path = alicePath();
        pay(hunter, 0xca401, TestParameters.MIN_CREDITS);
        vm.expectRevert(DepositTree.StalePath.selector);
        deposits.requestWithdrawal(
            idAlice, recipient, TICKETS, REFUND_TOTAL, TestParameters.KEY_HASH, nullifier(), share(), proof, path
        );
    }

    /// A known cheater's withdrawal is void: whoever knows k slashes it
    /// without a path (the leaf is already 0).
    function test_slashingAPendingWithdrawal() public {
        requestAsProved();
        uint256 root = deposits.currentRoot();
        uint256[DEPTH] memory anyPath;
        vm.prank(hunter);
        deposits.slash(K_ALICE, anyPath);
        assertStatus(status(idAlice), CreditDeposits.Status.Slashed, "slashed");
        assertEq(deposits.currentRoot(), root, "the tree is unchanged");
        assertEq(balanceOf(hunter), TestParameters.BOUNTY, "bounty");
        assertEq(deposits.treasuryOwed(), ALICE_CREDITS * PRICE - TestParameters.BOUNTY, "the rest owed");
        vm.warp(deadline() + 1);
        vm.expectRevert(CreditDeposits.NoPendingWithdrawal.selector);
        deposits.finalizeWithdrawal(idAlice);
        vm.expectRevert(CreditDeposits.NoActiveDeposit.selector);
        deposits.slash(K_ALICE, anyPath);
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
    }

    /// Every unit deposited or bonded ends with the recipient, the treasury,
    /// a slasher or the burn address, or is still held for an active
    /// deposit, owed to the treasury or in the bond; whatever happens to
    /// Alice's deposit, and whatever is burned.
    function testFuzz_everyUnitEndsSomewhere(uint64 carolExtra, uint8 fate, uint64 bond, uint8 burns, bool payOut)
        public
    {
        uint256 held = uint256(ALICE_CREDITS + BOB_CREDITS) * PRICE;
        // Alice's deposit: withdrawn, challenged, slashed while withdrawing,
        // slashed while active, expired, or left alone.
        uint8 which = fate % 6;
        if (which <= 2) {
            requestAsProved();
            if (which == 0) {
                vm.warp(deadline() + 1);
                deposits.finalizeWithdrawal(idAlice);
            } else if (which == 1) {
                vm.prank(hunter);
                deposits.challenge(idAlice, X_REQUEST, spentShare);
            } else {
                uint256[DEPTH] memory anyPath;
                vm.prank(hunter);
                deposits.slash(K_ALICE, anyPath);
            }
            held -= uint256(ALICE_CREDITS) * PRICE;
        } else if (which == 3) {
            vm.prank(hunter);
            deposits.slash(K_ALICE, alicePath());
            held -= uint256(ALICE_CREDITS) * PRICE;
        } else if (which == 4) {
            vm.warp(block.timestamp + TestParameters.DEPOSIT_LIFETIME);
            deposits.claimExpired(idAlice, alicePath());
            held -= uint256(ALICE_CREDITS) * PRICE;
        }
        // Carol's deposit of any size, and a bond of any size, after it.
        uint256 carolCredits = TestParameters.MIN_CREDITS + carolExtra % 1e12;
        pay(address(0xca401), 0xca401, carolCredits);
        held += carolCredits * PRICE;
        uint256 bonded = uint256(bond % 1e6) * PRICE;
        fundBond(bonded);
        if (payOut) {
            deposits.payTreasury();
        }
        uint256 count = burns % 4;
        CreditDeposits.PolicyReceipt[] memory receipts = new CreditDeposits.PolicyReceipt[](count);
        for (uint256 i = 0; i < count; ++i) {
            receipts[i] = signReceipt(deposits, 0xb0a7 + i, TestParameters.C_MAX, SafeCast.toUint64(block.timestamp));
        }
        uint256 burned = count * TestParameters.C_MAX * PRICE;
        if (burned > deposits.treasuryOwed() + deposits.providerBond()) {
            vm.prank(treasury);
            vm.expectRevert(CreditDeposits.InsufficientFundsForBurn.selector);
            deposits.burnPolicyReceipts(receipts);
            burned = 0;
        } else {
            vm.prank(treasury);
            deposits.burnPolicyReceipts(receipts);
        }

        assertSolvent(held);
        uint256 paidIn = (ALICE_CREDITS + BOB_CREDITS + carolCredits) * PRICE + bonded;
        uint256 out =
            balanceOf(recipient) + balanceOf(treasury) + balanceOf(hunter) + balanceOf(deposits.BURN_ADDRESS());
        assertEq(balanceOf(address(deposits)) + out, paidIn, "nothing created or lost");
        assertEq(balanceOf(deposits.BURN_ADDRESS()), burned, "burned exactly the receipts");
    }

    function fundBond(uint256 amount) internal virtual;
}

contract EtherSettlementTest is SettlementFixture {
    function deploy() internal override returns (CreditDeposits) {
        return new EtherCreditDeposits(TestParameters.get(treasury, verifier));
    }

    function pay(address who, uint256 k, uint256 credits) internal override {
        uint256 id = PoseidonT2.hash([k]);
        vm.deal(who, credits * PRICE);
        vm.prank(who);
        EtherCreditDeposits(address(deposits)).deposit{value: credits * PRICE}(id);
    }

    function fundBond(uint256 amount) internal override {
        vm.deal(address(this), amount);
        EtherCreditDeposits(address(deposits)).fundBond{value: amount}();
    }

    function balanceOf(address who) internal view override returns (uint256) {
        return who.balance;
    }

    /// A chain that never used a ticket withdraws the whole deposit; the
    /// provider is owed nothing.
    function test_aGenesisWithdrawalReturnsTheWholeDeposit() public {
        uint256 idBob = PoseidonT2.hash([K_BOB]);
        (uint256[8] memory genesisProof, uint256[8] memory inputs,,) =
            proveWithdrawal(K_BOB, 0, 0, 0, bob, new uint256[3][](0));
        deposits.requestWithdrawal(
            idBob, bob, 0, 0, TestParameters.KEY_HASH, inputs[6], inputs[7], genesisProof, pathNextTo(leafAlice, zeros)
        );
        vm.warp(deposits.withdrawalOf(idBob).deadline + 1);
        deposits.finalizeWithdrawal(idBob);
        assertEq(bob.balance, BOB_CREDITS * PRICE, "all of it back");
        assertEq(deposits.treasuryOwed(), 0, "nothing charged");
        assertSolvent(uint256(ALICE_CREDITS) * PRICE);
    }

    /// A recipient that refuses its payout cannot keep the provider's share
    /// from it (the user could spend all but one credit, withdraw to such an
    /// address and leave the provider unpaid); the payout waits for it.
    function test_aRecipientThatRefusesItsPayoutDoesNotHoldUpTheProvidersShare() public {
        Reentrant refusing = new Reentrant();
        refusing.setTarget(EtherCreditDeposits(address(deposits)));
        refusing.setRefuse(true);
        (uint256[8] memory refusingProof, uint256[8] memory inputs,,) =
            proveWithdrawal(K_ALICE, TICKETS, REFUND_PREV, REFUND, address(refusing), new uint256[3][](0));
        deposits.requestWithdrawal(
            idAlice,
            address(refusing),
            TICKETS,
            REFUND_TOTAL,
            TestParameters.KEY_HASH,
            inputs[6],
            inputs[7],
            refusingProof,
            alicePath()
        );
        vm.warp(deadline() + 1);
        deposits.finalizeWithdrawal(idAlice);
        uint256 userAmount = (ALICE_CREDITS - CHARGED) * PRICE;
        assertStatus(status(idAlice), CreditDeposits.Status.Withdrawn, "withdrawn");
        assertEq(deposits.treasuryOwed(), CHARGED * PRICE, "the provider's share is owed");
        assertEq(deposits.heldPayoutOf(address(refusing)), userAmount, "the refund is held");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);

        vm.expectRevert(CreditDeposits.NoHeldPayout.selector);
        deposits.claimHeldPayout(alice);
        refusing.claimHeldPayout(alice);
        assertEq(alice.balance, userAmount, "claimed to another address");
        assertEq(deposits.heldPayoutsTotal(), 0, "nothing held");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
    }

    /// The challenger's payout re-entering the contract is refused.
    function test_reentryFromAChallengersPayoutIsRefused() public {
        requestAsProved();
        Reentrant challenger = new Reentrant();
        challenger.setTarget(EtherCreditDeposits(address(deposits)));
        challenger.setCallback(abi.encodeCall(CreditDeposits.finalizeWithdrawal, (idAlice)));
        challenger.challenge(idAlice, X_REQUEST, spentShare);
        assertRefusedByGuard(challenger.callbackSucceeded(), challenger.callbackResult());
        assertEq(address(challenger).balance, TestParameters.BOUNTY, "one bounty");
    }
}

/// The same settlement paid in a token, whose transfers can call back.
contract TokenSettlementTest is SettlementFixture {
    HookToken token;

    function deploy() internal override returns (CreditDeposits) {
        token = new HookToken();
        return new TokenCreditDeposits(token, TestParameters.get(treasury, verifier));
    }

    function pay(address who, uint256 k, uint256 credits) internal override {
        uint256 id = PoseidonT2.hash([k]);
        token.mint(who, credits * PRICE);
        vm.prank(who);
        token.approve(address(deposits), credits * PRICE);
        vm.prank(who);
        TokenCreditDeposits(address(deposits)).deposit(id, credits * PRICE);
    }

    function fundBond(uint256 amount) internal override {
        token.mint(address(this), amount);
        token.approve(address(deposits), amount);
        TokenCreditDeposits(address(deposits)).fundBond(amount);
    }

    function balanceOf(address who) internal view override returns (uint256) {
        return token.balanceOf(who);
    }

    /// A recipient the token blocks: the provider's share is owed all the
    /// same, and the recipient claims its payout to another address.
    function test_aBlockedRecipientsPayoutIsHeld() public {
        requestAsProved();
        vm.warp(deadline() + 1);
        token.setBlocked(recipient);
        deposits.finalizeWithdrawal(idAlice);
        uint256 userAmount = (ALICE_CREDITS - CHARGED) * PRICE;
        assertEq(deposits.treasuryOwed(), CHARGED * PRICE, "the provider's share is owed");
        assertEq(deposits.heldPayoutOf(recipient), userAmount, "the refund is held");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
        vm.prank(recipient);
        deposits.claimHeldPayout(alice);
        assertEq(balanceOf(alice), userAmount, "claimed to an address the token accepts");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
    }

    /// The recipient's payout, calling back into finalizeWithdrawal, is
    /// refused by the guard, and the withdrawal is paid once.
    function test_reentryFromAWithdrawalPayoutIsRefused() public {
        requestAsProved();
        vm.warp(deadline() + 1);
        token.setHook(address(deposits), abi.encodeCall(CreditDeposits.finalizeWithdrawal, (idAlice)));
        deposits.finalizeWithdrawal(idAlice);
        assertRefusedByGuard(token.hookSucceeded(), token.hookResult());
        assertEq(balanceOf(recipient), (ALICE_CREDITS - CHARGED) * PRICE, "paid once");
        assertSolvent(uint256(BOB_CREDITS) * PRICE);
    }
}
