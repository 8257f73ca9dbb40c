"""Policy burns on a real chain (docs/protocol.md §9.1, docs/operations.md
§12): the real gateway signs a receipt for each policy refusal, the
provider's `zkcredit-registry burn` posts them to the deposit contract on
anvil, each nullifier burns once and its value reaches the burn address; a
receipt the provider sits on is forced by its holder after the delay."""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from chain_fixtures import CAST, PRICE, Anvil, Contracts
from receipt_fixtures import (BURN_SIGNATURE, OTHER_RECEIPT_KEY, RECEIPT_HEADER, RECEIPT_SIGNER,
                              parse_receipt, receipt_tuple, signed_receipt, write_receipt_key)
from zkcredit_fixtures import (C_MAX, CIRCUIT_WASM, Upstream, gateway, make_credentials,
                               publish_root, register_deposit, request_spec, write_signing_key)

REGISTRY = os.environ.get("ZKC_REGISTRY", "")
CLIENT = os.environ.get("ZKC_CLIENT", "")
LEAVES_LOCATION = "location = /zkcredit/leaves.json { alias %%PREFIX%%/html/leaves.json; }"
PREFIX = "test:"
BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
BURN_DELAY = 3600
BOND = 10 * C_MAX * PRICE
GRACE = {"k": "777777777777777777", "deposit": "1000000"}
TICKETS = 5  # policy refusals the tests make, one ticket each
TREASURY_ACCOUNT = 2  # anvil's account that is the contract's treasury
USER_ACCOUNT = 3      # a receipt holder's


@unittest.skipUnless(REGISTRY and CIRCUIT_WASM and os.path.exists(CAST),
                     "ZKC_REGISTRY, the circuit or the npm foundry packages are missing")
class BurnTest(unittest.TestCase):
    @classmethod
    def running(cls, service):
        """`service` started, and stopped after the class even when a later
        piece fails to start."""
        started = service.start()
        cls.addClassCleanup(service.stop)
        return started

    @classmethod
    def setUpClass(cls):
        cls.anvil = cls.running(Anvil())
        cls.contracts = Contracts(cls.anvil)
        cls.addClassCleanup(cls.contracts.cleanup)
        cls.treasury = cls.anvil.accounts[TREASURY_ACCOUNT]
        cls.address, _ = cls.contracts.deploy(treasury=cls.treasury, receipt_signer=RECEIPT_SIGNER,
                                              burn_delay=BURN_DELAY)
        cls.contracts.send(cls.address, "fundBond()", value=BOND)
        cls.chain_id = int(cls.anvil.rpc("eth_chainId"), 16)

        cls.redis = cls.running(harness.Redis())
        cls.upstream = cls.running(Upstream())
        nginx = gateway(cls.redis.port, cls.upstream.port, extra_server=(
            f"zkcredit_deposit_contract eip155:{cls.chain_id}:{cls.address}; "
            f"zkcredit_receipt_key %%PREFIX%%/receipt.key; {LEAVES_LOCATION}"))
        write_receipt_key(nginx.prefix)
        cls.treasury_key = write_signing_key(nginx.prefix, cls.anvil.keys[TREASURY_ACCOUNT][2:],
                                             name="treasury.key")
        cls.user_key = write_signing_key(nginx.prefix, cls.anvil.keys[USER_ACCOUNT][2:],
                                         name="user.key")
        cls.nginx = cls.running(nginx)

        cls.made = make_credentials([GRACE], [request_spec(0, i, "POST", "/v1/policy", b"forbidden")
                                              for i in range(TICKETS)])
        cls.tickets = iter(cls.made["credentials"])

    def setUp(self):
        self.redis.command("FLUSHALL")
        publish_root(self.redis, self.made["root_hex"])
        self.snapshot = self.anvil.rpc("evm_snapshot")
        self.addCleanup(self.anvil.rpc, "evm_revert", self.snapshot)

    def refuse(self):
        """A policy refusal by the gateway; its receipt, as the user holds it."""
        credential = next(self.tickets)
        resp = self.nginx.request("POST", "/v1/policy", b"forbidden",
                                  {"ZKCredit-Credential": credential["header"]})
        self.assertEqual(resp.status, 200)
        receipt = resp.header(RECEIPT_HEADER)
        self.assertIsInstance(receipt, str)
        nullifier = credential["nullifier_hex"]
        harness.eventually(self.policy_nullifiers, lambda found: nullifier in found)
        return receipt

    def policy_nullifiers(self):
        return [dict(zip(f[::2], f[1::2]))[b"nullifier"].decode()
                for _, f in self.redis.command("XRANGE", PREFIX + "evidence:policy", "-", "+")]

    def burn(self, *extra, expect=0):
        done = subprocess.run([REGISTRY, "--redis", f"127.0.0.1:{self.redis.port}", "--prefix", PREFIX,
                               "--json", "burn", "--rpc", self.anvil.url, "--contract", self.address,
                               "--chain-key", self.treasury_key, "--once", *extra],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, expect, done.stderr)
        return [json.loads(line) for line in done.stdout.splitlines()]

    def burned(self, receipt):
        nullifier = "0x" + parse_receipt(receipt)["nullifier"].hex()
        return self.contracts.call(self.address, "policyBurned(uint256)(bool)", nullifier) == "true"

    def bond(self):
        return int(self.contracts.call(self.address, "providerBond()(uint256)").split()[0])

    def burn_events(self):
        logs = self.anvil.rpc("eth_getLogs", {
            "address": self.address, "fromBlock": "0x0", "toBlock": "latest",
            "topics": ["0x" + self.event_topic()]})
        events = []
        for log in logs:
            data = bytes.fromhex(log["data"][2:])
            events.append({"nullifier": log["topics"][1][2:],
                           "credits": int.from_bytes(data[0:32], "big"),
                           "evidence": data[32:64].hex(),
                           "amount": int.from_bytes(data[64:96], "big"),
                           "forced": int.from_bytes(data[96:128], "big") == 1})
        return events

    @staticmethod
    def event_topic():
        done = subprocess.run([CAST, "keccak", "PolicyBurned(uint256,uint64,bytes32,uint256,bool)"],
                              capture_output=True, text=True, check=True, timeout=30)
        return done.stdout.strip()[2:]

    def test_the_burner_burns_each_receipt_once_and_the_sums_close(self):
        receipts = [self.refuse(), self.refuse()]
        # what the burner must refuse: an entry without a receipt, and a
        # receipt signed by a key that is not the contract's receipt signer
        self.redis.command("XADD", PREFIX + "evidence:policy", "*", "nullifier", "00" * 32)
        forged = dict(parse_receipt(receipts[0]), nullifier=bytes.fromhex("11" * 32))
        self.redis.command("XADD", PREFIX + "evidence:policy", "*", "nullifier", "11" * 32,
                           "receipt", signed_receipt(forged, self.chain_id, self.address,
                                                     OTHER_RECEIPT_KEY))
        dead_before, bond_before = self.anvil.balance(BURN_ADDRESS), self.bond()

        outcomes = self.burn("--batch", "1")
        self.assertEqual([o["action"] for o in outcomes],
                         ["burned", "burned", "rejected", "rejected"], outcomes)
        self.assertEqual([o["reason"] for o in outcomes[2:]],
                         ["no receipt", "not signed by the contract's receipt signer"])
        self.assertNotEqual(outcomes[0]["transaction"], outcomes[1]["transaction"], "--batch 1")
        self.assertTrue(all(self.burned(r) for r in receipts))

        # the money: C_max of each refusal, from the bond (nothing is owed
        # to the treasury yet) to the burn address, and nothing else moves
        burned_value = 2 * C_MAX * PRICE
        self.assertEqual(self.anvil.balance(BURN_ADDRESS) - dead_before, burned_value)
        self.assertEqual(bond_before - self.bond(), burned_value)
        events = self.burn_events()
        self.assertEqual(sorted(e["nullifier"] for e in events),
                         sorted(parse_receipt(r)["nullifier"].hex() for r in receipts))
        self.assertEqual({(e["credits"], e["amount"], e["forced"]) for e in events},
                         {(C_MAX, C_MAX * PRICE, False)})
        self.assertEqual({e["evidence"] for e in events},
                         {hashlib.sha256(b"violation: test content").hexdigest()})

        # its cursor: nothing new, nothing done; from the start again, the
        # contract's record leaves every receipt out
        self.assertEqual(self.burn(), [])
        self.redis.command("DEL", PREFIX + "registry:burn-cursor")
        self.assertEqual([o["action"] for o in self.burn()],
                         ["already-burned", "already-burned", "rejected", "rejected"])
        self.assertEqual(len(self.burn_events()), 2)

    def test_a_holder_forces_a_receipt_the_provider_sits_on(self):
        receipt = self.refuse()
        user = self.anvil.accounts[USER_ACCOUNT]
        with self.assertRaises(RuntimeError, msg="only the treasury may burn before the delay"):
            self.contracts.send(self.address, BURN_SIGNATURE, f"[{receipt_tuple(receipt)}]",
                                account=USER_ACCOUNT)
        self.pass_burn_delay(receipt)
        dead_before = self.anvil.balance(BURN_ADDRESS)
        sent = self.contracts.send(self.address, BURN_SIGNATURE, f"[{receipt_tuple(receipt)}]",
                                   account=USER_ACCOUNT)
        self.assertEqual(sent["from"].lower(), user)
        self.assertEqual(self.anvil.balance(BURN_ADDRESS) - dead_before, C_MAX * PRICE)
        [event] = self.burn_events()
        self.assertTrue(event["forced"])
        # the provider's burner finds it burned and posts nothing
        self.assertEqual([o["action"] for o in self.burn()], ["already-burned"])
        self.assertEqual(len(self.burn_events()), 1)

    def test_a_batch_of_receipts_is_one_transaction(self):
        receipts = [self.refuse(), self.refuse()]
        outcomes = self.burn("--batch", "32")
        self.assertEqual([o["action"] for o in outcomes], ["burned"] * len(receipts))
        self.assertEqual(len({o["transaction"] for o in outcomes}), 1)
        self.assertTrue(all(self.burned(r) for r in receipts))

    def pass_burn_delay(self, receipt):
        """Mines a block at the first second anyone may burn `receipt`
        (anvil's clock, which snapshots move, is set, not advanced)."""
        due = parse_receipt(receipt)["issued_at"] + BURN_DELAY
        latest = int(self.anvil.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        if latest < due:
            self.anvil.rpc("evm_setNextBlockTimestamp", due)
        self.anvil.mine(1)

    def zkcredit(self, state, *args):
        done = subprocess.run([CLIENT, "--state", state, "--json", *args], capture_output=True,
                              text=True, timeout=120, env=dict(os.environ, ZKCREDIT_PRECOMPUTE="0"))
        self.assertEqual(done.returncode, 0, f"zkcredit {' '.join(args)}: {done.stderr}")
        return done

    def chain_options(self):
        return ["--rpc", self.anvil.url, "--contract", self.address]

    @unittest.skipUnless(CLIENT, "ZKC_CLIENT is not set")
    def test_the_client_keeps_its_receipt_and_forces_the_burn_after_the_delay(self):
        home = tempfile.mkdtemp(prefix="zkc-client-")
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        state = os.path.join(home, "user.json")
        base = f"http://127.0.0.1:{self.nginx.port}"
        self.zkcredit(state, "init")
        registered = json.loads(self.zkcredit(state, "register", "--deposit", "5000").stdout)
        register_deposit(REGISTRY, self.redis.port,
                         os.path.join(self.nginx.prefix, "html", "leaves.json"),
                         registered["id"], 5000)
        self.zkcredit(state, "sync", "--leaves", base + "/zkcredit/leaves.json")

        refused = self.zkcredit(state, "request", "-d", "forbidden", base + "/v1/policy")
        self.assertIn("refused by the provider's policy", refused.stderr)
        with open(state) as f:
            [refused_receipt] = [t["policy_receipt"] for t in json.load(f)["tickets"]]
        [kept] = json.loads(self.zkcredit(state, "receipts").stdout)["receipts"]
        self.assertEqual((kept["ticket"], kept["credits"]), (0, C_MAX))
        self.assertEqual(kept["evidence_digest"],
                         hashlib.sha256(b"violation: test content").hexdigest())
        [checked] = json.loads(self.zkcredit(state, "receipts", *self.chain_options()).stdout)["receipts"]
        self.assertEqual((checked["signer_ok"], checked["burned"]), (True, False))
        self.assertEqual(checked["forceable_at"], checked["issued_at"] + BURN_DELAY)

        burn = [*self.chain_options(), "--chain-key", self.user_key]
        [early] = json.loads(self.zkcredit(state, "burn-receipts", *burn).stdout)["receipts"]
        self.assertEqual(early["action"], "not-yet")
        self.assertEqual(self.burn_events(), [])

        self.pass_burn_delay(refused_receipt)
        dead_before = self.anvil.balance(BURN_ADDRESS)
        [forced] = json.loads(self.zkcredit(state, "burn-receipts", *burn).stdout)["receipts"]
        self.assertEqual(forced["action"], "burned")
        self.assertEqual(self.anvil.balance(BURN_ADDRESS) - dead_before, C_MAX * PRICE)
        [event] = self.burn_events()
        self.assertEqual((event["nullifier"], event["forced"]), (kept["nullifier"], True))

        [again] = json.loads(self.zkcredit(state, "burn-receipts", *burn).stdout)["receipts"]
        self.assertEqual(again["action"], "already-burned")
        self.assertEqual([o["action"] for o in self.burn()], ["already-burned"])


if __name__ == "__main__":
    unittest.main()
