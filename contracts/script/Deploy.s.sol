// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CreditDeposits} from "../src/CreditDeposits.sol";
import {EtherCreditDeposits} from "../src/EtherCreditDeposits.sol";
import {IWithdrawalVerifier} from "../src/IWithdrawalVerifier.sol";
import {TokenCreditDeposits} from "../src/TokenCreditDeposits.sol";
import {Groth16Verifier} from "../src/WithdrawalVerifier.sol";
import {vm} from "../test/Cheats.sol";

/// Deploys one deposit contract (docs/operations.md §10.4), with the
/// parameters from the environment:
///
///   ZKC_DEPLOYER_KEY     the deployer's private key (hex)
///   ZKC_SCOPE, ZKC_C_MAX, ZKC_KEY_HASH, ZKC_PRICE, ZKC_MIN_CREDITS,
///   ZKC_SLASH_BOUNTY, ZKC_TREASURY
///   ZKC_RECEIPT_SIGNER   the address of the gateway's policy-receipt key
///   ZKC_TOKEN            an ERC-20 address, or unset for ether
///   ZKC_WITHDRAWAL_VERIFIER  a deployed withdrawal verifier, or unset to
///                        deploy src/WithdrawalVerifier.sol first
///   ZKC_CHALLENGE_WINDOW, ZKC_DEPOSIT_LIFETIME, ZKC_BURN_DELAY
///                        seconds; unset: 3 days, 365 days, 1 day
///
/// forge deploys the Poseidon libraries first and links them.
contract Deploy {
    function run() external returns (CreditDeposits deposits) {
        uint256[] memory keyHashes = new uint256[](1);
        keyHashes[0] = vm.envUint("ZKC_KEY_HASH");
        CreditDeposits.Parameters memory p = CreditDeposits.Parameters({
            scope: vm.envUint("ZKC_SCOPE"),
            cMax: uint64(vm.envUint("ZKC_C_MAX")),
            refundKeyHashes: keyHashes,
            pricePerCredit: vm.envUint("ZKC_PRICE"),
            minCredits: uint64(vm.envUint("ZKC_MIN_CREDITS")),
            slashBounty: vm.envUint("ZKC_SLASH_BOUNTY"),
            treasury: vm.envAddress("ZKC_TREASURY"),
            withdrawalVerifier: IWithdrawalVerifier(vm.envOr("ZKC_WITHDRAWAL_VERIFIER", address(0))),
            challengeWindow: uint64(vm.envOr("ZKC_CHALLENGE_WINDOW", uint256(3 days))),
            depositLifetime: uint64(vm.envOr("ZKC_DEPOSIT_LIFETIME", uint256(365 days))),
            receiptSigner: vm.envAddress("ZKC_RECEIPT_SIGNER"),
            burnDelay: uint64(vm.envOr("ZKC_BURN_DELAY", uint256(1 days)))
        });
        uint256 token = vm.envOr("ZKC_TOKEN", uint256(0));
        vm.startBroadcast(vm.envUint("ZKC_DEPLOYER_KEY"));
        if (address(p.withdrawalVerifier) == address(0)) {
            p.withdrawalVerifier = IWithdrawalVerifier(address(new Groth16Verifier()));
        }
        if (token == 0) {
            deposits = new EtherCreditDeposits(p);
        } else {
            deposits = new TokenCreditDeposits(IERC20(address(uint160(token))), p);
        }
        vm.stopBroadcast();
    }
}
