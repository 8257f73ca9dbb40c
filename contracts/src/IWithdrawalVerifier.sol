// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The Groth16 verifier of the withdrawal circuit (circuits/withdraw.circom),
/// as `snarkjs zkey export solidityverifier` writes it
/// (src/WithdrawalVerifier.sol). The public inputs are, in this order,
/// [id, scope, key_hash, tickets, refund_total, x, nullifier, signal_y]
/// (docs/protocol.md §3.1).
interface IWithdrawalVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[8] calldata pubSignals
    ) external view returns (bool);
}
