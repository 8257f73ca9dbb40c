// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {DepositTree} from "./DepositTree.sol";

/// Deposits and slashing of docs/protocol.md §3 and §11, for one deployment.
///
/// A user pays a whole number of credit units at a fixed price and names its
/// identity ID = H(k); the contract computes the leaf H(ID, D) itself, so the
/// amount a user proves against is the amount it paid. Anyone who knows the
/// `k` of an active deposit (a double spend reveals it) may slash it: the
/// leaf becomes 0, the caller gets a fixed bounty and the provider's share
/// accrues to the treasury. The asset (ether or one ERC-20 token) is fixed by
/// the concrete contract.
///
/// Money: every unit paid in is, at any time, either held for an active
/// deposit (credits * pricePerCredit), or owed to the treasury
/// (treasuryOwed), or already paid out as a bounty or to the treasury.
abstract contract CreditDeposits is DepositTree, ReentrancyGuard {
    /// The BN254 scalar field: identities, keys and the scope are below it.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    struct Deposit {
        uint64 credits;
        uint32 leafIndex;
        bool registered;
        bool slashed;
    }

    struct Parameters {
        uint256 scope;
        uint64 cMax;
        uint256[] refundKeyHashes;
        uint256 pricePerCredit;
        uint64 minCredits;
        uint256 slashBounty;
        address treasury;
    }

    /// Names the deployment; tickets and vouchers are bound to it (§2).
    uint256 public immutable scope;
    /// The most one request can cost, in credit units.
    uint64 public immutable cMax;
    /// Asset units (wei or token base units) per credit unit.
    uint256 public immutable pricePerCredit;
    /// The smallest deposit, in credit units; at least cMax.
    uint64 public immutable minCredits;
    /// Asset units paid to whoever slashes a deposit; at most the smallest deposit.
    uint256 public immutable slashBounty;
    /// Where the provider's share of slashed deposits goes.
    address public immutable treasury;

    uint256[] private refundKeyHashes_;
    mapping(uint256 id => Deposit) private deposits_;
    /// The provider's share of slashed deposits not yet sent to the treasury.
    uint256 public treasuryOwed;

    /// Everything a follower needs to rebuild the tree: leaf `leaf` now sits at `leafIndex`.
    event Deposited(
        uint256 indexed id, uint32 leafIndex, uint64 credits, uint256 leaf, uint256 root, address payer
    );
    /// Leaf `leafIndex` is now 0. `k` is the evidence: H(k) = id.
    event Slashed(
        uint256 indexed id,
        uint32 leafIndex,
        uint256 k,
        uint256 root,
        address slasher,
        uint256 bounty,
        uint256 treasuryShare
    );
    event TreasuryPaid(address treasury, uint256 amount);

    error InvalidParameters();
    error NotAFieldElement();
    error IdentityTaken();
    error AmountNotWholeCredits();
    error DepositTooSmall();
    error DepositTooLarge();
    error NoActiveDeposit();
    error PayoutFailed();

    constructor(Parameters memory p) {
        if (
            p.scope >= FIELD_MODULUS || p.cMax == 0 || p.pricePerCredit == 0 || p.minCredits < p.cMax
                || p.treasury == address(0) || p.refundKeyHashes.length == 0
                || p.slashBounty > uint256(p.minCredits) * p.pricePerCredit
        ) {
            revert InvalidParameters();
        }
        for (uint256 i = 0; i < p.refundKeyHashes.length; ++i) {
            if (p.refundKeyHashes[i] >= FIELD_MODULUS) {
                revert InvalidParameters();
            }
        }
        scope = p.scope;
        cMax = p.cMax;
        refundKeyHashes_ = p.refundKeyHashes;
        pricePerCredit = p.pricePerCredit;
        minCredits = p.minCredits;
        slashBounty = p.slashBounty;
        treasury = p.treasury;
    }

    /// The key_hash of every server key whose vouchers the deployment accepts.
    function refundKeyHashes() external view returns (uint256[] memory) {
        return refundKeyHashes_;
    }

    function depositOf(uint256 id) external view returns (Deposit memory) {
        return deposits_[id];
    }

    /// Slashes the active deposit of identity H(k). `siblings` is the
    /// deposit's authentication path in the current tree (a follower of the
    /// Deposited and Slashed events builds it); a deposit or slash mined
    /// first makes it stale, and the call reverts with StalePath.
    function slash(uint256 k, uint256[DEPTH] calldata siblings) external nonReentrant {
        if (k >= FIELD_MODULUS) {
            revert NotAFieldElement();
        }
        uint256 id = PoseidonT2.hash([k]);
        Deposit storage deposit = deposits_[id];
        if (!deposit.registered || deposit.slashed) {
            revert NoActiveDeposit();
        }
        deposit.slashed = true;
        uint64 credits = deposit.credits;
        uint32 leafIndex = deposit.leafIndex;
        uint256 root = _clear(leafIndex, PoseidonT3.hash([id, uint256(credits)]), siblings);

        uint256 paid = uint256(credits) * pricePerCredit;
        uint256 treasuryShare = paid - slashBounty;
        treasuryOwed += treasuryShare;
        emit Slashed(id, leafIndex, k, root, msg.sender, slashBounty, treasuryShare);
        _payOut(msg.sender, slashBounty);
    }

    /// Sends what the treasury is owed. Anyone may call it; the money only
    /// ever goes to `treasury`, so a treasury that refuses payment delays
    /// its own income and blocks nothing else.
    function payTreasury() external nonReentrant {
        uint256 amount = treasuryOwed;
        treasuryOwed = 0;
        emit TreasuryPaid(treasury, amount);
        _payOut(treasury, amount);
    }

    /// Registers `id` for a payment of `paid` asset units already received.
    function _register(uint256 id, uint256 paid) internal {
        if (id >= FIELD_MODULUS) {
            revert NotAFieldElement();
        }
        if (deposits_[id].registered) {
            revert IdentityTaken();
        }
        if (paid % pricePerCredit != 0) {
            revert AmountNotWholeCredits();
        }
        uint256 credits = paid / pricePerCredit;
        if (credits < minCredits) {
            revert DepositTooSmall();
        }
        if (credits > type(uint64).max) {
            revert DepositTooLarge();
        }
        // casting to 'uint64' is safe because of the check above
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 amount = uint64(credits);
        uint256 leaf = PoseidonT3.hash([id, credits]);
        (uint32 leafIndex, uint256 root) = _append(leaf);
        deposits_[id] = Deposit({credits: amount, leafIndex: leafIndex, registered: true, slashed: false});
        emit Deposited(id, leafIndex, amount, leaf, root, msg.sender);
    }

    function _payOut(address to, uint256 amount) internal virtual;
}
