// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CreditDeposits} from "./CreditDeposits.sol";

/// Deposits paid in ether: D = msg.value / pricePerCredit (wei per credit).
contract EtherCreditDeposits is CreditDeposits {
    constructor(Parameters memory p) CreditDeposits(p) {}

    /// Deposits msg.value, a whole number of credits, for identity `id` = H(k).
    function deposit(uint256 id) external payable nonReentrant {
        _register(id, msg.value);
    }

    /// Adds msg.value to the bond that backs the provider's policy receipts.
    function fundBond() external payable nonReentrant {
        _addToBond(msg.value);
    }

    function _tryPayOut(address to, uint256 amount) internal override returns (bool sent) {
        (sent,) = to.call{value: amount}("");
    }
}
