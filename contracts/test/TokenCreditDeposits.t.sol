// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {CreditDeposits} from "../src/CreditDeposits.sol";
import {TestToken} from "../src/TestToken.sol";
import {TokenCreditDeposits} from "../src/TokenCreditDeposits.sol";
import {vm} from "./Cheats.sol";
import {Support, TestParameters, TreeHarness} from "./Support.sol";

/// A token whose transfers report failure by returning false, moving nothing.
contract FalseToken is TestToken {
    function transfer(address, uint256) public pure override returns (bool) {
        return false;
    }

    function transferFrom(address, address, uint256) public pure override returns (bool) {
        return false;
    }
}

/// A token that keeps 1% of every transfer.
contract FeeToken is TestToken {
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xfee), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// A token that calls back into the deposit contract from inside a transfer
/// (as ERC-777 hooks do) and records how the call ended, and that refuses
/// transfers to one blocked address (as USDC's blacklist does).
contract HookToken is TestToken {
    address public hookTarget;
    bytes public hookCall;
    bool public hookSucceeded;
    bytes public hookResult;
    address public blocked;

    error Blocked(address to);

    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookCall = data;
    }

    function setBlocked(address to) external {
        blocked = to;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to == blocked && to != address(0)) {
            revert Blocked(to);
        }
        super._update(from, to, value);
        if (hookTarget != address(0) && from != address(0)) {
            (hookSucceeded, hookResult) = hookTarget.call(hookCall);
        }
    }
}

contract TokenCreditDepositsTest is Support {
    address treasury = address(0x7ea5);
    address alice = address(0xa11ce);
    address hunter = address(0x4a7);
    uint256 constant K_ALICE = 0xa11ce5ec7e7;
    uint256 constant PRICE = TestParameters.PRICE;
    uint256[21] zeros;

    function setUp() public {
        deployVerifier();
        zeros = new TreeHarness().zeros();
    }

    /// A deposit contract for `token`, Alice holding and having approved
    /// `credits` worth of it, and Alice's identity.
    function deploy(TestToken token, uint256 credits)
        internal
        returns (TokenCreditDeposits deposits, uint256 paid, uint256 id)
    {
        deposits = new TokenCreditDeposits(token, TestParameters.get(treasury, verifier));
        paid = credits * PRICE;
        token.mint(alice, paid);
        vm.prank(alice);
        token.approve(address(deposits), paid);
        id = PoseidonT2.hash([K_ALICE]);
    }

    function test_tokenDepositSlashAndPayout() public {
        TestToken token = new TestToken();
        (TokenCreditDeposits deposits, uint256 paid, uint256 id) = deploy(token, 2_000_000);
        vm.prank(alice);
        deposits.deposit(id, paid);
        assertEq(uint160(address(deposits.token())), uint160(address(token)), "token readable");
        assertEq(deposits.depositOf(id).credits, 2_000_000, "credits = amount / price");
        assertEq(token.balanceOf(address(deposits)), paid, "held");

        vm.prank(hunter);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        deposits.payTreasury();
        assertEq(token.balanceOf(hunter), TestParameters.BOUNTY, "bounty");
        assertEq(token.balanceOf(treasury), paid - TestParameters.BOUNTY, "treasury share");
        assertEq(token.balanceOf(address(deposits)), 0, "nothing left behind");
    }

    function test_aTokenThatReturnsFalseRegistersNothing() public {
        FalseToken token = new FalseToken();
        (TokenCreditDeposits deposits, uint256 paid, uint256 id) = deploy(token, 1_000_000);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        deposits.deposit(id, paid);
        assertEq(deposits.leafCount(), 0, "no leaf");
        assertStatus(deposits.depositOf(id).status, CreditDeposits.Status.None, "not registered");
    }

    function test_aTokenWithATransferFeeIsRefused() public {
        FeeToken token = new FeeToken();
        (TokenCreditDeposits deposits, uint256 paid, uint256 id) = deploy(token, 1_000_000);
        vm.prank(alice);
        vm.expectRevert(TokenCreditDeposits.TransferAmountMismatch.selector);
        deposits.deposit(id, paid);
    }

    function test_reentryFromATokenTransferIsRefused() public {
        HookToken token = new HookToken();
        (TokenCreditDeposits deposits, uint256 paid, uint256 id) = deploy(token, 1_000_000);
        uint256 otherId = PoseidonT2.hash([uint256(0x5ec)]);
        token.setHook(address(deposits), abi.encodeCall(TokenCreditDeposits.deposit, (otherId, paid)));
        vm.prank(alice);
        deposits.deposit(id, paid);
        assertRefused(token);
        assertEq(deposits.leafCount(), 1, "only the outer deposit");

        // The bounty and the treasury payouts, re-entering slash and payTreasury.
        token.setHook(address(deposits), abi.encodeCall(CreditDeposits.payTreasury, ()));
        vm.prank(hunter);
        deposits.slash(K_ALICE, pathNextTo(0, zeros));
        assertRefused(token);
        token.setHook(address(deposits), abi.encodeCall(CreditDeposits.slash, (K_ALICE, pathNextTo(0, zeros))));
        deposits.payTreasury();
        assertRefused(token);
        assertEq(token.balanceOf(hunter) + token.balanceOf(treasury), paid, "paid out once");
    }

    function assertRefused(HookToken token) internal view {
        assertRefusedByGuard(token.hookSucceeded(), token.hookResult());
    }
}
