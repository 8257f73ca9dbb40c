// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// The stand-in for USDC in the tests and the demo: six decimals, and anyone
/// may mint. Never deploy it anywhere that matters.
contract TestToken is ERC20 {
    constructor() ERC20("zkcredit test dollar", "tUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
