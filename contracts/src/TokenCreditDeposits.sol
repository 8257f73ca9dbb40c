// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {CreditDeposits} from "./CreditDeposits.sol";

/// Deposits paid in one ERC-20 token (the proposal's USDC):
/// D = amount / pricePerCredit (token base units per credit).
contract TokenCreditDeposits is CreditDeposits {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;

    /// The token moved another amount than asked (a fee on transfer, say):
    /// D would no longer be what was paid.
    error TransferAmountMismatch();

    constructor(IERC20 token_, Parameters memory p) CreditDeposits(p) {
        token = token_;
    }

    /// Takes `amount` (approved beforehand), a whole number of credits, for
    /// identity `id` = H(k).
    function deposit(uint256 id, uint256 amount) external nonReentrant {
        _take(amount);
        _register(id, amount);
    }

    /// Takes `amount` (approved beforehand) into the bond that backs the
    /// provider's policy receipts.
    function fundBond(uint256 amount) external nonReentrant {
        _take(amount);
        _addToBond(amount);
    }

    function _take(uint256 amount) private {
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        if (token.balanceOf(address(this)) - balanceBefore != amount) {
            revert TransferAmountMismatch();
        }
    }

    /// A transfer that reverts or returns false is a failure (SafeERC20).
    function _tryPayOut(address to, uint256 amount) internal override returns (bool) {
        return token.trySafeTransfer(to, amount);
    }
}
