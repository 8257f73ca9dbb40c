// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PoseidonT2} from "poseidon-solidity/PoseidonT2.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {DepositTree} from "./DepositTree.sol";
import {IWithdrawalVerifier} from "./IWithdrawalVerifier.sol";

/// Deposits, slashing and settlement of docs/protocol.md §3 and §11, for one
/// deployment.
///
/// A user pays a whole number of credit units at a fixed price and names its
/// identity ID = H(k); the contract computes the leaf H(ID, D) itself, so the
/// amount a user proves against is the amount it paid. A deposit leaves the
/// contract in one of four ways:
/// - a withdrawal: the user proves how many tickets it used (n) and what it
///   was refunded (R); after a challenge window the user gets D + R - n*C_max
///   and the provider n*C_max - R. A withdrawal that understates n carries a
///   second share of a spent ticket, which reveals k: the provider's watcher
///   challenges it and the deposit is slashed instead;
/// - a slash: anyone who knows k (a double spend reveals it) takes a fixed
///   bounty and the rest is owed to the treasury;
/// - expiry: a deposit unused for `depositLifetime` is owed to the treasury;
/// - never to the provider for a policy refusal: those amounts are burned
///   against signed policy receipts, from what the treasury is owed and then
///   from the provider's bond.
/// The asset (ether or one ERC-20 token) is fixed by the concrete contract.
///
/// Money: the contract holds exactly the sum of credits * pricePerCredit over
/// Active and Withdrawing deposits, plus treasuryOwed, plus providerBond,
/// plus the payouts held for recipients that refused them; every unit that
/// left went to a withdrawal's recipient, the treasury, a slasher or the
/// burn address.
abstract contract CreditDeposits is DepositTree, ReentrancyGuard {
    /// The BN254 scalar field: identities, keys, shares and the scope are below it.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Where policy burns go: an address whose key nobody holds.
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;

    enum Status {
        None,
        Active,
        Withdrawing,
        Withdrawn,
        Slashed,
        Expired
    }

    /// One storage slot.
    struct Deposit {
        uint64 credits;
        uint32 leafIndex;
        uint64 depositedAt;
        Status status;
    }

    /// A pending withdrawal, in three slots. The binding x is not stored: it
    /// is a function of the recipient (withdrawalBinding). The nullifier is
    /// only in the WithdrawalRequested event: no rule on chain reads it.
    struct Withdrawal {
        address recipient;
        uint32 tickets;
        uint64 refundTotal;
        uint64 deadline;
        uint256 y;
    }

    /// A provider's signed statement that the request with ticket nullifier
    /// `nullifier` was refused by policy and kept `credits` (docs/protocol.md §3.1).
    struct PolicyReceipt {
        uint256 nullifier;
        uint64 credits;
        bytes32 evidenceDigest;
        uint64 issuedAt;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// A withdrawal request on its way through requestWithdrawal.
    struct Request {
        uint256 id;
        address recipient;
        uint32 tickets;
        uint64 refundTotal;
        uint256 keyHash;
        uint256 nullifier;
        uint256 y;
        uint256 x;
    }

    struct Parameters {
        uint256 scope;
        uint64 cMax;
        uint256[] refundKeyHashes;
        uint256 pricePerCredit;
        uint64 minCredits;
        uint256 slashBounty;
        address treasury;
        IWithdrawalVerifier withdrawalVerifier;
        uint64 challengeWindow;
        uint64 depositLifetime;
        address receiptSigner;
        uint64 burnDelay;
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
    /// Where the provider's share of withdrawals, slashes and expired deposits goes.
    address public immutable treasury;
    /// Checks the withdrawal circuit's proofs.
    IWithdrawalVerifier public immutable withdrawalVerifier;
    /// Seconds after a withdrawal request during which it can be challenged.
    uint64 public immutable challengeWindow;
    /// Seconds after its deposit until an unwithdrawn deposit is the treasury's.
    uint64 public immutable depositLifetime;
    /// The provider's policy-receipt key (an Ethereum address).
    address public immutable receiptSigner;
    /// Seconds after a receipt's issue during which only the treasury may burn it.
    uint64 public immutable burnDelay;

    uint256[] private refundKeyHashes_;
    mapping(uint256 keyHash => bool) private acceptedKeyHash_;
    mapping(uint256 id => Deposit) private deposits_;
    mapping(uint256 id => Withdrawal) private withdrawals_;
    mapping(uint256 nullifier => bool) private policyBurned_;
    /// Withdrawal payouts their recipient refused, kept for it.
    mapping(address recipient => uint256) private heldPayouts_;
    /// The provider's share not yet sent to the treasury.
    uint256 public treasuryOwed;
    /// The sum of the held payouts.
    uint256 public heldPayoutsTotal;
    /// What the provider put up to back its policy receipts; it never leaves
    /// except to the burn address.
    uint256 public providerBond;

    /// Everything a follower needs to rebuild the tree: leaf `leaf` now sits at `leafIndex`.
    event Deposited(uint256 indexed id, uint32 leafIndex, uint64 credits, uint256 leaf, uint256 root, address payer);
    /// The deposit is forfeit. `k` is the evidence: H(k) = id. Leaf `leafIndex`
    /// is 0 in `root` (for a pending withdrawal it already was).
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
    /// Leaf `leafIndex` is 0 in `root`. (x, y) is the share of ticket
    /// `tickets`, whose nullifier is `nullifier`: a watcher that saw that
    /// nullifier with another x challenges before `deadline`.
    event WithdrawalRequested(
        uint256 indexed id,
        uint32 leafIndex,
        uint256 root,
        address recipient,
        uint32 tickets,
        uint64 refundTotal,
        uint256 nullifier,
        uint256 x,
        uint256 y,
        uint64 deadline
    );
    event WithdrawalFinalized(uint256 indexed id, address recipient, uint256 userAmount, uint256 providerAmount);
    /// Leaf `leafIndex` is 0 in `root`; the deposit is owed to the treasury.
    event DepositExpired(uint256 indexed id, uint32 leafIndex, uint256 root, uint256 providerAmount);
    /// `forced`: posted by someone other than the treasury, after the burn delay.
    event PolicyBurned(uint256 indexed nullifier, uint64 credits, bytes32 evidenceDigest, uint256 amount, bool forced);
    event BondFunded(address from, uint256 amount);
    /// The recipient of withdrawal `id` refused its payout; it is kept for
    /// the recipient (claimHeldPayout).
    event PayoutHeld(uint256 indexed id, address recipient, uint256 amount);
    event HeldPayoutClaimed(address recipient, address to, uint256 amount);

    error InvalidParameters();
    error NotAFieldElement();
    error IdentityTaken();
    error AmountNotWholeCredits();
    error DepositTooSmall();
    error DepositTooLarge();
    error NoActiveDeposit();
    error PayoutFailed();
    error DepositLifetimeOver();
    error DepositNotExpired();
    error UnknownRefundKey();
    /// tickets * cMax > credits + refundTotal: more was spent than the deposit held.
    error TicketsExceedCredit();
    /// refundTotal > tickets * cMax: more refunded than charged.
    error RefundExceedsCharges();
    error ZeroRecipient();
    error InvalidWithdrawalProof();
    error NoPendingWithdrawal();
    error ChallengeWindowOver();
    error ChallengeWindowOpen();
    /// The challenging share has the withdrawal's own binding: it reveals nothing.
    error SameBinding();
    /// The two shares do not give the deposit's k.
    error NotTheOwnersShare();
    error BadReceiptSignature(uint256 nullifier);
    error ReceiptAlreadyBurned(uint256 nullifier);
    error BurnNotYetForceable(uint256 nullifier);
    error InsufficientFundsForBurn();
    error PrecompileFailed();
    error NoHeldPayout();

    constructor(Parameters memory p) {
        if (
            p.scope >= FIELD_MODULUS || p.cMax == 0 || p.pricePerCredit == 0 || p.minCredits < p.cMax
                || p.treasury == address(0) || p.refundKeyHashes.length == 0
                || p.slashBounty > uint256(p.minCredits) * p.pricePerCredit
                || address(p.withdrawalVerifier) == address(0) || p.challengeWindow == 0 || p.depositLifetime == 0
                || p.receiptSigner == address(0)
        ) {
            revert InvalidParameters();
        }
        for (uint256 i = 0; i < p.refundKeyHashes.length; ++i) {
            if (p.refundKeyHashes[i] >= FIELD_MODULUS) {
                revert InvalidParameters();
            }
            acceptedKeyHash_[p.refundKeyHashes[i]] = true;
        }
        scope = p.scope;
        cMax = p.cMax;
        refundKeyHashes_ = p.refundKeyHashes;
        pricePerCredit = p.pricePerCredit;
        minCredits = p.minCredits;
        slashBounty = p.slashBounty;
        treasury = p.treasury;
        withdrawalVerifier = p.withdrawalVerifier;
        challengeWindow = p.challengeWindow;
        depositLifetime = p.depositLifetime;
        receiptSigner = p.receiptSigner;
        burnDelay = p.burnDelay;
    }

    /// The key_hash of every server key whose vouchers the deployment accepts.
    function refundKeyHashes() external view returns (uint256[] memory) {
        return refundKeyHashes_;
    }

    function depositOf(uint256 id) external view returns (Deposit memory) {
        return deposits_[id];
    }

    /// The pending withdrawal of `id` (all zero when there is none).
    function withdrawalOf(uint256 id) external view returns (Withdrawal memory) {
        return withdrawals_[id];
    }

    function heldPayoutOf(address recipient) external view returns (uint256) {
        return heldPayouts_[recipient];
    }

    function policyBurned(uint256 nullifier) external view returns (bool) {
        return policyBurned_[nullifier];
    }

    /// The x of a withdrawal to `recipient`: it names this contract on this
    /// chain, so a withdrawal's share can be used nowhere else, and it differs
    /// from every request's x (a hash of the request): a withdrawal that
    /// understates n gives a second point on the line of a spent ticket.
    function withdrawalBinding(address recipient) public view returns (uint256) {
        return uint256(keccak256(abi.encodePacked("zkcredit/v1/withdrawal", block.chainid, address(this), recipient)))
            % FIELD_MODULUS;
    }

    /// What a policy receipt's signer signs: SHA-256, so that a gateway
    /// without Keccak can compute it; chain and contract, so a receipt burns
    /// in one deployment only.
    function policyReceiptDigest(uint256 nullifier, uint64 credits, bytes32 evidenceDigest, uint64 issuedAt)
        public
        view
        returns (bytes32)
    {
        return sha256(
            abi.encodePacked(
                "zkcredit/v1/policy-receipt", block.chainid, address(this), nullifier, credits, evidenceDigest, issuedAt
            )
        );
    }

    /// Slashes the deposit of identity H(k), active or with a pending
    /// withdrawal (a known cheater's withdrawal is void). For an active
    /// deposit `siblings` is its authentication path in the current tree (a
    /// follower of the events builds it); a deposit or slash mined first
    /// makes it stale, and the call reverts with StalePath. A withdrawing
    /// deposit's leaf is already 0 and `siblings` is not read.
    function slash(uint256 k, uint256[DEPTH] calldata siblings) external nonReentrant {
        if (k >= FIELD_MODULUS) {
            revert NotAFieldElement();
        }
        uint256 id = PoseidonT2.hash([k]);
        Deposit storage deposit = deposits_[id];
        uint256 root;
        if (deposit.status == Status.Active) {
            root = _clear(deposit.leafIndex, PoseidonT3.hash([id, uint256(deposit.credits)]), siblings);
        } else if (deposit.status == Status.Withdrawing) {
            delete withdrawals_[id];
            root = currentRoot();
        } else {
            revert NoActiveDeposit();
        }
        _forfeit(id, deposit, k, root);
    }

    /// Starts the withdrawal of deposit `id` to `recipient`: the user (or a
    /// relayer; the proof fixes the recipient through x) proves it used
    /// tickets 0 .. tickets-1, was refunded refundTotal in all, and gives the
    /// share (x, signalY) of ticket `tickets` for x = withdrawalBinding(recipient).
    /// The leaf is cleared now (`siblings`: its path in the current tree),
    /// so no new root lets the user spend; the payout waits for the
    /// challenge window. `proof` is [a0, a1, b00, b01, b10, b11, c0, c1] in
    /// the verifier's order (snarkjs's Solidity calldata).
    function requestWithdrawal(
        uint256 id,
        address recipient,
        uint32 tickets,
        uint64 refundTotal,
        uint256 keyHash,
        uint256 nullifier,
        uint256 signalY,
        uint256[8] calldata proof,
        uint256[DEPTH] calldata siblings
    ) external nonReentrant {
        // One memory record instead of a dozen locals: the stack holds 16.
        Request memory request;
        request.id = id;
        request.recipient = recipient;
        request.tickets = tickets;
        request.refundTotal = refundTotal;
        request.keyHash = keyHash;
        request.nullifier = nullifier;
        request.y = signalY;
        _requestWithdrawal(request, proof, siblings);
    }

    /// Challenges the pending withdrawal of `id` with another share (x, y) of
    /// its ticket: two points of the line y = k + a*x give k, which must be
    /// the deposit's (H(k) = id). Then the deposit is slashed exactly as
    /// `slash` would, the caller taking the bounty. A share of another
    /// ticket or another identity gives some other k and is refused.
    function challenge(uint256 id, uint256 x, uint256 y) external nonReentrant {
        Deposit storage deposit = deposits_[id];
        if (deposit.status != Status.Withdrawing) {
            revert NoPendingWithdrawal();
        }
        Withdrawal storage withdrawal = withdrawals_[id];
        if (block.timestamp > withdrawal.deadline) {
            revert ChallengeWindowOver();
        }
        if (x >= FIELD_MODULUS || y >= FIELD_MODULUS) {
            revert NotAFieldElement();
        }
        uint256 x1 = withdrawalBinding(withdrawal.recipient);
        if (x == x1) {
            revert SameBinding();
        }
        uint256 k = _interceptAtZero(x1, withdrawal.y, x, y);
        if (PoseidonT2.hash([k]) != id) {
            revert NotTheOwnersShare();
        }
        delete withdrawals_[id];
        _forfeit(id, deposit, k, currentRoot());
    }

    /// Pays out the withdrawal of `id` once its challenge window is over:
    /// D + R - n*C_max to its recipient, n*C_max - R owed to the treasury.
    /// Anyone may call it; the money goes only where the request named. A
    /// recipient that refuses the payment (a reverting contract, an address
    /// the token blocks) must not keep the provider's share from it: the
    /// share is owed all the same and the payout is held for the recipient.
    function finalizeWithdrawal(uint256 id) external nonReentrant {
        Deposit storage deposit = deposits_[id];
        if (deposit.status != Status.Withdrawing) {
            revert NoPendingWithdrawal();
        }
        Withdrawal memory withdrawal = withdrawals_[id];
        if (block.timestamp <= withdrawal.deadline) {
            revert ChallengeWindowOpen();
        }
        deposit.status = Status.Withdrawn;
        delete withdrawals_[id];
        // requestWithdrawal checked R <= n*C_max <= D + R: charged is in [0, D].
        uint256 charged = uint256(withdrawal.tickets) * cMax - withdrawal.refundTotal;
        uint256 providerAmount = charged * pricePerCredit;
        uint256 userAmount = (uint256(deposit.credits) - charged) * pricePerCredit;
        treasuryOwed += providerAmount;
        emit WithdrawalFinalized(id, withdrawal.recipient, userAmount, providerAmount);
        if (userAmount != 0 && !_tryPayOut(withdrawal.recipient, userAmount)) {
            // The failed transfer changed nothing, and the guard keeps it so.
            heldPayouts_[withdrawal.recipient] += userAmount;
            heldPayoutsTotal += userAmount;
            emit PayoutHeld(id, withdrawal.recipient, userAmount);
        }
    }

    /// Sends the caller's held withdrawal payouts to `to`.
    function claimHeldPayout(address to) external nonReentrant {
        uint256 amount = heldPayouts_[msg.sender];
        if (amount == 0) {
            revert NoHeldPayout();
        }
        heldPayouts_[msg.sender] = 0;
        heldPayoutsTotal -= amount;
        emit HeldPayoutClaimed(msg.sender, to, amount);
        _payOut(to, amount);
    }

    /// Gives the treasury a deposit that was neither withdrawn nor slashed
    /// within `depositLifetime` of its deposit (a lost key, an abandoned
    /// balance). Anyone may call it; `siblings` is the leaf's current path.
    function claimExpired(uint256 id, uint256[DEPTH] calldata siblings) external nonReentrant {
        Deposit storage deposit = deposits_[id];
        if (deposit.status != Status.Active) {
            revert NoActiveDeposit();
        }
        if (block.timestamp < uint256(deposit.depositedAt) + depositLifetime) {
            revert DepositNotExpired();
        }
        deposit.status = Status.Expired;
        uint32 leafIndex = deposit.leafIndex;
        uint256 root = _clear(leafIndex, PoseidonT3.hash([id, uint256(deposit.credits)]), siblings);
        uint256 amount = uint256(deposit.credits) * pricePerCredit;
        treasuryOwed += amount;
        emit DepositExpired(id, leafIndex, root, amount);
    }

    /// Burns the amounts of policy receipts signed by `receiptSigner`, each
    /// nullifier once. Until `issuedAt + burnDelay` only the treasury may
    /// post a receipt; after it anyone may (a forced burn), so a provider
    /// that sits on a receipt cannot keep what it names. The batch's total
    /// comes from treasuryOwed, and what that lacks from providerBond; a
    /// batch that both cannot cover reverts whole.
    function burnPolicyReceipts(PolicyReceipt[] calldata receipts) external nonReentrant {
        bool byTreasury = msg.sender == treasury;
        uint256 total = 0;
        for (uint256 i = 0; i < receipts.length; ++i) {
            PolicyReceipt calldata receipt = receipts[i];
            uint256 nullifier = receipt.nullifier;
            if (policyBurned_[nullifier]) {
                revert ReceiptAlreadyBurned(nullifier);
            }
            if (!byTreasury && block.timestamp < uint256(receipt.issuedAt) + burnDelay) {
                revert BurnNotYetForceable(nullifier);
            }
            bytes32 digest = policyReceiptDigest(nullifier, receipt.credits, receipt.evidenceDigest, receipt.issuedAt);
            (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(digest, receipt.v, receipt.r, receipt.s);
            if (failure != ECDSA.RecoverError.NoError || signer != receiptSigner) {
                revert BadReceiptSignature(nullifier);
            }
            policyBurned_[nullifier] = true;
            uint256 amount = uint256(receipt.credits) * pricePerCredit;
            total += amount;
            emit PolicyBurned(nullifier, receipt.credits, receipt.evidenceDigest, amount, !byTreasury);
        }
        uint256 owed = treasuryOwed;
        if (total <= owed) {
            treasuryOwed = owed - total;
        } else {
            uint256 fromBond = total - owed;
            if (fromBond > providerBond) {
                revert InsufficientFundsForBurn();
            }
            treasuryOwed = 0;
            providerBond -= fromBond;
        }
        if (total != 0) {
            _payOut(BURN_ADDRESS, total);
        }
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
        if (deposits_[id].status != Status.None) {
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
        deposits_[id] = Deposit({
            credits: amount, leafIndex: leafIndex, depositedAt: uint64(block.timestamp), status: Status.Active
        });
        emit Deposited(id, leafIndex, amount, leaf, root, msg.sender);
    }

    /// Adds `amount` asset units, already received, to the provider's bond.
    function _addToBond(uint256 amount) internal {
        providerBond += amount;
        emit BondFunded(msg.sender, amount);
    }

    /// Sends `amount` to `to`; false when the transfer failed (and moved nothing).
    function _tryPayOut(address to, uint256 amount) internal virtual returns (bool);

    function _payOut(address to, uint256 amount) internal {
        if (!_tryPayOut(to, amount)) {
            revert PayoutFailed();
        }
    }

    function _requestWithdrawal(Request memory request, uint256[8] calldata proof, uint256[DEPTH] calldata siblings)
        private
    {
        Deposit storage deposit = deposits_[request.id];
        if (deposit.status != Status.Active) {
            revert NoActiveDeposit();
        }
        if (block.timestamp >= uint256(deposit.depositedAt) + depositLifetime) {
            revert DepositLifetimeOver();
        }
        _checkClaim(deposit.credits, request);
        request.x = withdrawalBinding(request.recipient);
        _verifyWithdrawal(
            proof,
            [
                request.id,
                scope,
                request.keyHash,
                request.tickets,
                request.refundTotal,
                request.x,
                request.nullifier,
                request.y
            ]
        );

        uint32 leafIndex = deposit.leafIndex;
        uint256 root = _clear(leafIndex, PoseidonT3.hash([request.id, uint256(deposit.credits)]), siblings);
        deposit.status = Status.Withdrawing;
        uint64 deadline = uint64(block.timestamp) + challengeWindow;
        withdrawals_[request.id] = Withdrawal({
            recipient: request.recipient,
            tickets: request.tickets,
            refundTotal: request.refundTotal,
            deadline: deadline,
            y: request.y
        });
        emit WithdrawalRequested(
            request.id,
            leafIndex,
            root,
            request.recipient,
            request.tickets,
            request.refundTotal,
            request.nullifier,
            request.x,
            request.y,
            deadline
        );
    }

    /// The slash of a deposit whose leaf is 0 in `root`: the caller gets
    /// the bounty, the treasury is owed the rest.
    function _forfeit(uint256 id, Deposit storage deposit, uint256 k, uint256 root) private {
        deposit.status = Status.Slashed;
        uint256 treasuryShare = uint256(deposit.credits) * pricePerCredit - slashBounty;
        treasuryOwed += treasuryShare;
        emit Slashed(id, deposit.leafIndex, k, root, msg.sender, slashBounty, treasuryShare);
        _payOut(msg.sender, slashBounty);
    }

    /// The withdrawal's claim is one the deposit can pay and the provider
    /// signed for: n*C_max - R is between 0 and D, the refund key is accepted.
    /// The nullifier and the share are below r (the verifier would refuse
    /// them too, for more gas).
    function _checkClaim(uint64 credits, Request memory request) private view {
        if (request.recipient == address(0)) {
            revert ZeroRecipient();
        }
        if (!acceptedKeyHash_[request.keyHash]) {
            revert UnknownRefundKey();
        }
        uint256 charges = uint256(request.tickets) * cMax;
        if (charges > uint256(credits) + request.refundTotal) {
            revert TicketsExceedCredit();
        }
        if (request.refundTotal > charges) {
            revert RefundExceedsCharges();
        }
        if (request.nullifier >= FIELD_MODULUS || request.y >= FIELD_MODULUS) {
            revert NotAFieldElement();
        }
    }

    function _verifyWithdrawal(uint256[8] calldata proof, uint256[8] memory inputs) private view {
        bool valid = withdrawalVerifier.verifyProof(
            [proof[0], proof[1]], [[proof[2], proof[3]], [proof[4], proof[5]]], [proof[6], proof[7]], inputs
        );
        if (!valid) {
            revert InvalidWithdrawalProof();
        }
    }

    /// The y-intercept of the line through (x1, y1) and (x2, y2) over F_r:
    /// (y1*x2 - y2*x1) / (x2 - x1). The caller ensures x1 != x2, all below r.
    function _interceptAtZero(uint256 x1, uint256 y1, uint256 x2, uint256 y2) private view returns (uint256) {
        uint256 numerator =
            addmod(mulmod(y1, x2, FIELD_MODULUS), FIELD_MODULUS - mulmod(y2, x1, FIELD_MODULUS), FIELD_MODULUS);
        uint256 denominator = addmod(x2, FIELD_MODULUS - x1, FIELD_MODULUS);
        return mulmod(numerator, _inverse(denominator), FIELD_MODULUS);
    }

    /// a^(r-2) mod r = a^-1 (Fermat; r is prime, a != 0), by the modexp
    /// precompile (EIP-198) rather than a Solidity loop of 254 squarings.
    function _inverse(uint256 a) private view returns (uint256) {
        (bool ok, bytes memory result) =
            address(0x05).staticcall(abi.encode(32, 32, 32, a, FIELD_MODULUS - 2, FIELD_MODULUS));
        if (!ok || result.length != 32) {
            revert PrecompileFailed();
        }
        return abi.decode(result, (uint256));
    }
}
