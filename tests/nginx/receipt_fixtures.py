"""Policy receipts as the tests see them (docs/protocol.md §9.1): the test
receipt key, the receipt's fields read and written as the specification
lays them out, its digest computed here, and Foundry's cast as the oracle
for its signature."""

import base64
import hashlib
import subprocess

from chain_fixtures import CAST
from zkcredit_fixtures import write_signing_key

# anvil's second and third development accounts: published test keys
RECEIPT_KEY = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
RECEIPT_SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER_RECEIPT_KEY = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
RECEIPT_HEADER = "ZKCredit-Policy-Receipt"
BURN_SIGNATURE = "burnPolicyReceipts((uint256,uint64,bytes32,uint64,uint8,bytes32,bytes32)[])"


def write_receipt_key(prefix, hex_key=RECEIPT_KEY, mode=0o600, name="receipt.key"):
    return write_signing_key(prefix, hex_key, mode, name)


def parse_receipt(text):
    """The receipt's fields, read as the specification lays them out."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 146 or raw[0] != 1:
        raise ValueError(f"not a version 1 receipt of 146 bytes: {len(raw)} bytes")
    return {"nullifier": raw[1:33], "credits": int.from_bytes(raw[33:41], "big"),
            "evidence": raw[41:73], "issued_at": int.from_bytes(raw[73:81], "big"),
            "signature": raw[81:146]}


def receipt_digest(fields, chain_id, contract):
    """sha256(abi.encodePacked(tag, uint256 chain id, address, nullifier,
    uint64 credits, evidence digest, uint64 issued_at))."""
    packed = (b"zkcredit/v1/policy-receipt" + chain_id.to_bytes(32, "big")
              + bytes.fromhex(contract[2:]) + fields["nullifier"]
              + fields["credits"].to_bytes(8, "big") + fields["evidence"]
              + fields["issued_at"].to_bytes(8, "big"))
    return hashlib.sha256(packed).digest()


def cast_verifies(digest, signature, address):
    done = subprocess.run([CAST, "wallet", "verify", "--no-hash", "--address", address,
                           "0x" + digest.hex(), "0x" + signature.hex()],
                          capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def signed_receipt(fields, chain_id, contract, key):
    """The header text of a receipt with these fields, signed by `key` with
    cast (the digest itself, no prefix)."""
    done = subprocess.run([CAST, "wallet", "sign", "--no-hash", "--private-key", "0x" + key,
                           "0x" + receipt_digest(fields, chain_id, contract).hex()],
                          capture_output=True, text=True, timeout=30, check=True)
    raw = (b"\x01" + fields["nullifier"] + fields["credits"].to_bytes(8, "big")
           + fields["evidence"] + fields["issued_at"].to_bytes(8, "big")
           + bytes.fromhex(done.stdout.strip()[2:]))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def receipt_tuple(text):
    """The receipt as cast spells one PolicyReceipt tuple argument."""
    f = parse_receipt(text)
    sig = f["signature"]
    return (f"(0x{f['nullifier'].hex()},{f['credits']},0x{f['evidence'].hex()},"
            f"{f['issued_at']},{sig[64]},0x{sig[:32].hex()},0x{sig[32:64].hex()})")
