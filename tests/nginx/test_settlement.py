"""Settlement on a real chain, end to end (docs/protocol.md §3.2): users who
deposited with `zkcredit deposit` and paid requests through the real gateway
withdraw with `zkcredit withdraw`; the provider's follower and slasher
(`zkcredit-registry follow`, `slash`) watch the withdrawals against the
gateway's Redis. A withdrawal pays both sides to the wei and agrees with the
gateway's metrics; one that understates its tickets is challenged and
slashed; requests raced against a pending withdrawal are caught."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from chain_fixtures import (BOUNTY, CAST, CHALLENGE_WINDOW, DEPOSIT_LIFETIME, PRICE,
                            ChainGatewayCase)
from zkcredit_fixtures import C_MAX, CIRCUIT_WASM, make_credentials

REGISTRY = os.environ.get("ZKC_REGISTRY", "")
CLIENT = os.environ.get("ZKC_CLIENT", "")
EXIT_TREE = 6
EXIT_INSUFFICIENT = 7
EXIT_SPENT = 9
EXIT_CHAIN = 13
PREFIX = "test:"
COST = 250  # the test upstream's X-Cost for every answer
STATUS_WITHDRAWN, STATUS_SLASHED, STATUS_EXPIRED = 3, 4, 5


@unittest.skipUnless(REGISTRY and CLIENT and CIRCUIT_WASM and os.path.exists(CAST),
                     "ZKC_REGISTRY, ZKC_CLIENT, the circuit or the npm foundry packages are missing")
class SettlementTest(ChainGatewayCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The contract accepts the vouchers of the gateway's signing key.
        key_hash = int(make_credentials([], [])["key_hash_hex"], 16)
        cls.address, cls.deployed_at = cls.contracts.deploy(key_hash=key_hash)
        cls.home = tempfile.mkdtemp(prefix="zkc-settlement-")
        cls.addClassCleanup(shutil.rmtree, cls.home, True)
        cls.provider_key = cls.key_file("provider", 3)

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(dir=self.home)

    @classmethod
    def key_file(cls, name, account):
        path = os.path.join(cls.home, name + ".key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(cls.anvil.keys[account] + "\n")
        return path

    # -- the provider's side -------------------------------------------------

    def registry(self, *args):
        done = subprocess.run([REGISTRY, "--redis", f"127.0.0.1:{self.redis.port}",
                               "--prefix", PREFIX, "--json", *args],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return [json.loads(line) for line in done.stdout.splitlines()]

    def chain(self):
        return ["--rpc", self.anvil.url, "--contract", self.address,
                "--from-block", str(self.deployed_at)]

    def follow(self):
        """The follower's catch-up pass (no confirmations: anvil mines each
        transaction in its own block)."""
        steps = self.registry("follow", *self.chain(), "--confirmations", "0", "--once")
        return {field: sum(step[field] for step in steps)
                for field in ("deposits", "slashes", "withdrawals", "withdrawal_conflicts",
                              "expiries")}

    def slash(self):
        return self.registry("slash", *self.chain(), "--chain-key", self.provider_key, "--once")

    def view(self, signature, *args):
        return self.contracts.call(self.address, signature, *args).split()[0]

    def status_of(self, state):
        identity = self.zkcredit(state, "status")["id"]
        record = self.contracts.call(
            self.address, "depositOf(uint256)((uint64,uint32,uint64,uint8))", identity)
        return int(record.strip("()").split(",")[3])

    def charged_metric(self):
        text = self.nginx.request("GET", "/metrics").body.decode()
        return int(re.search(r"^zkcredit_credits_charged_total (\d+)$", text, re.M).group(1))

    def warp(self, seconds):
        self.anvil.rpc("evm_increaseTime", seconds)
        self.anvil.mine(1)

    def gas_paid(self, transaction):
        receipt = json.loads(subprocess.run(
            [CAST, "receipt", "--rpc-url", self.anvil.url, "--json", transaction],
            capture_output=True, text=True, check=True, timeout=60).stdout)
        return int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)

    # -- the user's side ---------------------------------------------------

    def zkcredit(self, state, *args, expect=0):
        """What the command printed (JSON) when it succeeds; the process when
        it is expected to fail."""
        done = subprocess.run([CLIENT, "--state", state, "--json", "--no-precompute", *args],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, expect, done.stderr)
        if expect != 0:
            return done
        return json.loads(done.stdout) if done.stdout.strip() else None

    def user(self, name, credits, account):
        """A user with `credits` deposited on chain from its own key, synced."""
        state = os.path.join(self.work, name + ".json")
        self.zkcredit(state, "init")
        key = self.key_file(name, account)
        self.zkcredit(state, "deposit", "--deposit", str(credits), "--rpc", self.anvil.url,
                      "--contract", self.address, "--chain-key", key)
        self.assertEqual(self.follow()["deposits"], 1)
        leaves = os.path.join(self.work, "leaves.json")
        self.registry("leaves", "--out", leaves)
        self.zkcredit(state, "sync", "--leaves", leaves)
        return state, key

    def pay(self, state, n, expect=0):
        outcomes = []
        for i in range(n):
            outcomes.append(self.zkcredit(state, "request", "-X", "POST", "-d",
                                          json.dumps({"q": i}),
                                          f"http://127.0.0.1:{self.nginx.port}/v1/chat",
                                          expect=expect))
        return outcomes

    def withdraw(self, state, key, recipient, *extra, expect=0):
        return self.zkcredit(state, "withdraw", "--rpc", self.anvil.url, "--contract",
                             self.address, "--chain-key", key, "--from-block",
                             str(self.deployed_at), "--to", recipient, *extra, expect=expect)

    # -- the tests -----------------------------------------------------------

    def test_a_withdrawal_pays_both_sides_and_the_accounting_closes(self):
        deposit = 4000
        state, key = self.user("alice", deposit, account=6)
        charged_before = self.charged_metric()
        served = self.pay(state, 3)
        self.assertEqual([o["http_status"] for o in served], [200, 200, 200])
        refunds = sum(o["refund"] for o in served)
        self.assertEqual(refunds, 3 * (C_MAX - COST))

        recipient = self.anvil.accounts[8]
        paid_before = self.anvil.balance(recipient)
        requested = self.withdraw(state, key, recipient)
        self.assertEqual((requested["tickets"], requested["refund_total"]), (3, refunds))
        owed_to_user = deposit + refunds - 3 * C_MAX
        self.assertEqual(requested["credits_to_recipient"], owed_to_user)

        # The follower clears the leaf and spends ticket 3 with the
        # withdrawal's share; nothing had spent it, so there is no evidence.
        self.assertEqual(self.follow(), {"deposits": 0, "slashes": 0, "withdrawals": 1,
                                         "withdrawal_conflicts": 0, "expiries": 0})
        self.assertEqual(self.redis.command("XLEN", PREFIX + "evidence:double-spend"), 0)
        self.assertEqual(self.slash(), [])
        # No request can follow a withdrawal: its ticket would be ticket 3.
        self.assertIn("being withdrawn", self.pay(state, 1, expect=EXIT_INSUFFICIENT)[0].stderr)

        # Not before the window is over; then once.
        self.assertIn("challenge window is still open",
                      self.withdraw(state, key, recipient, "--finalize", expect=EXIT_CHAIN).stderr)
        self.warp(CHALLENGE_WINDOW + 1)
        finalizer = self.key_file("finalizer", 5)
        finalized = self.withdraw(state, finalizer, recipient, "--finalize")
        self.assertEqual((finalized["finalized"], finalized["held"]), (True, "0"))
        self.assertEqual(self.status_of(state), STATUS_WITHDRAWN)
        self.assertTrue(self.withdraw(state, finalizer, recipient, "--finalize")["finalized"])

        # Every unit deposited is the user's or the provider's, and the
        # provider's is what the gateway charged.
        to_user = self.anvil.balance(recipient) - paid_before
        owed = int(self.view("treasuryOwed()(uint256)"))
        self.assertEqual(to_user, owed_to_user * PRICE)
        self.assertEqual(owed, (3 * C_MAX - refunds) * PRICE)
        self.assertEqual((self.charged_metric() - charged_before) * PRICE, owed)
        self.assertEqual(to_user + owed, deposit * PRICE)
        self.assertEqual(self.anvil.balance(self.address), owed)

    def test_a_withdrawal_that_understates_its_tickets_is_challenged_and_slashed(self):
        deposit = 3000
        state, key = self.user("bob", deposit, account=7)
        self.pay(state, 1)
        backup = state + ".backup"
        shutil.copy2(state, backup)
        self.pay(state, 2)
        # An old copy of the state names ticket 1 as the next one: it was
        # spent since, so the withdrawal's share of it meets the request's.
        shutil.copy2(backup, state)
        recipient = self.anvil.accounts[8]
        paid_before = self.anvil.balance(recipient)
        self.assertEqual(self.withdraw(state, key, recipient)["tickets"], 1)
        self.assertEqual(self.follow()["withdrawal_conflicts"], 1)
        entries = self.redis.command("XRANGE", PREFIX + "evidence:double-spend", "-", "+")
        self.assertEqual(len(entries), 1)
        with open(state) as f:
            secret = json.load(f)["secret"]
        fields = entries[0][1]
        evidence = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}
        self.assertEqual(evidence["k"], secret, "the two shares of ticket 1 reveal bob's key")

        slasher = self.anvil.accounts[3]
        slasher_before = self.anvil.balance(slasher)
        [outcome] = self.slash()
        self.assertEqual(outcome["action"], "challenged", outcome)
        self.assertEqual(self.status_of(state), STATUS_SLASHED)
        self.warp(CHALLENGE_WINDOW + 1)
        self.assertIn("no withdrawal of this identity is pending",
                      self.withdraw(state, key, recipient, "--finalize", expect=EXIT_CHAIN).stderr)

        owed = int(self.view("treasuryOwed()(uint256)"))
        self.assertEqual(self.anvil.balance(recipient), paid_before)
        self.assertEqual(self.anvil.balance(slasher),
                         slasher_before + BOUNTY - self.gas_paid(outcome["transaction"]))
        self.assertEqual(owed, deposit * PRICE - BOUNTY)
        self.assertEqual(self.anvil.balance(self.address), owed)

    def test_requests_raced_against_a_pending_withdrawal_are_caught(self):
        deposit = 4000
        state, key = self.user("carol", deposit, account=9)
        self.pay(state, 1)
        racer = state + ".racer"
        shutil.copy2(state, racer)
        recipient = self.anvil.accounts[8]
        self.assertEqual(self.withdraw(state, key, recipient)["tickets"], 1)
        # Before the follower has seen the withdrawal, the gateway still
        # accepts carol's root: a copy of her state spends tickets 1 and 2.
        raced = self.pay(racer, 2)
        self.assertEqual([o["ticket"] for o in raced], [1, 2])
        self.assertEqual([o["http_status"] for o in raced], [200, 200])
        # The follower's spend of ticket 1 meets the racing request's share.
        self.assertEqual(self.follow()["withdrawal_conflicts"], 1)
        [outcome] = self.slash()
        self.assertEqual(outcome["action"], "challenged")

        # What the race was worth: the requests it was served are paid from
        # the slashed deposit, of which the provider keeps all but the bounty;
        # the withdrawal pays nothing.
        self.warp(CHALLENGE_WINDOW + 1)
        self.assertEqual(self.status_of(state), STATUS_SLASHED)
        self.assertEqual(int(self.view("treasuryOwed()(uint256)")), deposit * PRICE - BOUNTY)
        self.assertEqual(self.anvil.balance(self.address), deposit * PRICE - BOUNTY)

    def test_a_request_after_the_follower_spent_the_withdrawals_ticket_is_a_double_spend(self):
        deposit = 2000
        state, key = self.user("dave", deposit, account=9)
        self.pay(state, 1)
        racer = state + ".racer"
        shutil.copy2(state, racer)
        self.withdraw(state, key, self.anvil.accounts[8])
        self.assertEqual(self.follow()["withdrawal_conflicts"], 0)
        # The gateway meets the withdrawal's share of ticket 1 in its store.
        refused = self.pay(racer, 1, expect=EXIT_SPENT)[0]
        self.assertEqual(json.loads(refused.stdout)["http_status"], 409)
        self.assertEqual(self.redis.command("XLEN", PREFIX + "evidence:double-spend"), 1)
        [outcome] = self.slash()
        self.assertEqual(outcome["action"], "challenged")
        self.assertEqual(self.status_of(state), STATUS_SLASHED)
        self.assertEqual(int(self.view("treasuryOwed()(uint256)")), deposit * PRICE - BOUNTY)

    def test_the_client_warns_a_month_before_its_deposit_expires(self):
        lifetime = 20 * 24 * 3600
        short_lived, _ = self.contracts.deploy(deposit_lifetime=lifetime)
        state = os.path.join(self.work, "erin.json")
        self.zkcredit(state, "init")
        done = self.zkcredit(state, "deposit", "--deposit", str(C_MAX), "--rpc", self.anvil.url,
                             "--contract", short_lived, "--chain-key", self.key_file("erin", 4))
        block = self.anvil.rpc("eth_getBlockByNumber", hex(done["block"]), False)
        balance = self.zkcredit(state, "balance")
        self.assertEqual(balance["expires_at"], int(block["timestamp"], 16) + lifetime)
        self.assertTrue(balance["expires_soon"])
        # A deposit of the default lifetime, a year, is far from it.
        state, _ = self.user("frank", C_MAX, account=5)
        self.assertFalse(self.zkcredit(state, "balance")["expires_soon"])

    def test_an_expired_deposit_goes_to_the_provider_and_leaves_the_tree(self):
        deposit = 2500
        state, key = self.user("gina", deposit, account=6)
        self.pay(state, 1)
        identity = self.zkcredit(state, "status")["id"]
        claim = ["claim-expired", "--id", identity, *self.chain(), "--chain-key",
                 self.provider_key]
        self.assertEqual(self.registry(*claim)[0]["action"], "not-expired")
        self.warp(DEPOSIT_LIFETIME + 1)
        [claimed] = self.registry(*claim)
        self.assertEqual(claimed["action"], "claimed")
        self.assertEqual(self.registry(*claim)[0]["action"], "not-active")
        self.assertEqual(self.status_of(state), STATUS_EXPIRED)
        # The follower clears the leaf; the contract owes the whole deposit to
        # the treasury, and a withdrawal is refused.
        self.assertEqual(self.follow()["expiries"], 1)
        leaves = os.path.join(self.work, "leaves.json")
        self.registry("leaves", "--out", leaves)
        self.zkcredit(state, "sync", "--leaves", leaves, expect=EXIT_TREE)
        self.assertEqual(int(self.view("treasuryOwed()(uint256)")), deposit * PRICE)
        self.assertIn("no active deposit",
                      self.withdraw(state, key, self.anvil.accounts[8], expect=EXIT_CHAIN).stderr)


if __name__ == "__main__":
    unittest.main()
