"""Deposits on a real chain, end to end: anvil with the deposit contract, the
registry following it (`zkcredit-registry follow`), the real gateway (nginx
+ module) with real Redis, and credentials proved by snarkjs. A deposit
becomes usable only after the configured confirmations, the published roots
are the contract's, a slash retires every older root, a reorg that drops a
deposit retracts it, and a restart mid-stream neither skips nor repeats."""

import json
import os
import subprocess
import tempfile
import unittest

from chain_fixtures import BOUNTY, CAST, PRICE, TREASURY, ChainGatewayCase
from zkcredit_fixtures import CIRCUIT_WASM, REPO_ROOT, SCOPE, make_credentials, request_spec

REGISTRY = os.environ.get("ZKC_REGISTRY", "")
CLIENT = os.environ.get("ZKC_CLIENT", "")
EXIT_CHAIN = 13
PREFIX = "test:"
CONFIRMATIONS = 2
ALICE = {"k": "1234567", "deposit": "5000"}
BOB = {"k": "7654321", "deposit": "3000"}
CAROL = {"k": "99999", "deposit": "2000"}
# The key_hash of the voucher key contracts/test/withdrawal.mjs signs with
# (contracts/test/Support.sol checks it against the oracle): the deployment
# accepts it, so the tests can prove withdrawals.
WITHDRAWAL_KEY_HASH = "0x24bd6c2350d54eb7a6ec6ff3ab83fed5acbc117f351170215efc02cae9bdcff4"


def tree_path(*users):
    """The authentication path of the last user's leaf H(H(k), D) in a tree
    holding the users' leaves in order (tests/reference/protocol.mjs)."""
    script = ("import { buildProtocol, Tree } from './tests/reference/protocol.mjs';"
              "const p = await buildProtocol();"
              "const users = JSON.parse(process.argv[1]);"
              "const tree = new Tree(p, 20);"
              "for (const u of users) tree.append(p.leaf(BigInt(u.k), BigInt(u.deposit)));"
              "console.log(JSON.stringify(tree.path(users.length - 1).elements"
              ".map((e) => e.toString())));")
    done = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps(users)],
                          capture_output=True, text=True, cwd=REPO_ROOT, check=True, timeout=60)
    return json.loads(done.stdout)


def identities(*users):
    """H(k) of each user, by circomlibjs (the oracle for hashes)."""
    script = ("import { buildPoseidon } from 'circomlibjs';"
              "const p = await buildPoseidon();"
              "const ks = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(ks.map((k) => p.F.toObject(p([BigInt(k)])).toString())));")
    done = subprocess.run(["node", "--input-type=module", "-e", script,
                           json.dumps([u["k"] for u in users])],
                          capture_output=True, text=True, cwd=REPO_ROOT, check=True, timeout=60)
    return json.loads(done.stdout)


@unittest.skipUnless(REGISTRY and CIRCUIT_WASM and os.path.exists(CAST),
                     "ZKC_REGISTRY, the circuit or the npm foundry packages are missing")
class ChainTest(ChainGatewayCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = dict(zip(("alice", "bob", "carol"), identities(ALICE, BOB, CAROL)))
        # One deployment; each test starts from the chain as it was just
        # after it (anvil's snapshots), which costs no forge run.
        cls.address, cls.deployed_at = cls.contracts.deploy(key_hash=WITHDRAWAL_KEY_HASH)

    def registry(self, *args, expect=0):
        done = subprocess.run([REGISTRY, "--redis", f"127.0.0.1:{self.redis.port}",
                               "--prefix", PREFIX, "--json", *args],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, expect, done.stderr)
        return done.stdout

    def follow(self):
        """One catch-up pass; returns the steps it reported."""
        out = self.registry("follow", "--rpc", self.anvil.url, "--contract", self.address,
                            "--from-block", str(self.deployed_at),
                            "--confirmations", str(CONFIRMATIONS), "--once")
        return [json.loads(line) for line in out.splitlines()]

    def deposit(self, name, user, account=1):
        self.contracts.send(self.address, "deposit(uint256)", self.ids[name],
                            account=account, value=int(user["deposit"]) * PRICE)

    def contract_root(self):
        return int(self.contracts.call(self.address, "currentRoot()(uint256)").split()[0])

    def published(self):
        """The roots the gateway accepts (score +inf: current)."""
        return [v.decode() for v in
                self.redis.command("ZRANGE", PREFIX + "roots", "0", "-1", "WITHSCORES")]

    def registry_root(self):
        return int(json.loads(self.registry("root"))["root"], 16)

    def request(self, credential):
        return self.nginx.request("GET", "/v1/models",
                                  headers={"ZKCredit-Credential": credential["header"]})

    def test_a_deposit_counts_after_its_confirmations_and_the_roots_are_the_contracts(self):
        self.deposit("alice", ALICE)
        self.deposit("bob", BOB, account=2)
        made = make_credentials([ALICE, BOB], [request_spec(0, 0, "GET", "/v1/models"),
                                               request_spec(1, 0, "GET", "/v1/models")])
        self.assertEqual(int(made["root_hex"], 16), self.contract_root(),
                         "the contract's root is circomlibjs's for the same leaves")

        # Bob's block has one block on top, not two: the registry applies
        # only Alice's, and the gateway refuses a proof against both.
        self.anvil.mine(CONFIRMATIONS - 1)
        self.assertEqual(sum(s["deposits"] for s in self.follow()), 1)
        self.assertEqual(self.request(made["credentials"][0]).status, 402)
        self.anvil.mine(1)
        self.assertEqual(sum(s["deposits"] for s in self.follow()), 1)
        self.assertEqual(self.registry_root(), self.contract_root(),
                         "the C++ registry's root is the contract's")
        self.assertEqual(self.request(made["credentials"][0]).status, 200)
        self.assertEqual(self.request(made["credentials"][1]).status, 200)

    def test_a_slash_changes_the_root_and_retires_every_older_root(self):
        self.deposit("alice", ALICE)
        self.deposit("bob", BOB, account=2)
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        before = self.registry_root()
        made = make_credentials([ALICE, BOB], [request_spec(1, 0, "GET", "/v1/models"),
                                               request_spec(0, 0, "GET", "/v1/models")])

        path = json.loads(self.registry("path", "--id", self.ids["bob"]))
        self.assertEqual(int(path["root"]), self.contract_root())
        siblings = "[" + ",".join(path["siblings"]) + "]"
        self.contracts.send(self.address, "slash(uint256,uint256[20])", BOB["k"], siblings,
                            account=3)
        self.anvil.mine(CONFIRMATIONS)
        steps = self.follow()
        self.assertEqual(sum(s["slashes"] for s in steps), 1)
        self.assertNotEqual(self.registry_root(), before)
        self.assertEqual(self.registry_root(), self.contract_root())
        self.assertEqual(self.published(), [format(self.contract_root(), "064x"), "inf"],
                         "only the contract's new root is accepted")
        # Proofs against the old root, Bob's and Alice's alike, are refused.
        self.assertEqual(self.request(made["credentials"][0]).status, 402)
        self.assertEqual(self.request(made["credentials"][1]).status, 402)

    def test_a_reorg_that_drops_a_deposit_retracts_it(self):
        self.deposit("alice", ALICE)
        snapshot = self.anvil.rpc("evm_snapshot")
        self.deposit("carol", CAROL, account=2)
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        self.assertEqual(self.registry_root(), self.contract_root())
        with_carol = self.registry_root()

        # Carol's block and the ones on top are replaced by other blocks
        # (a transfer makes their hashes differ), deeper than the confirmations.
        self.anvil.rpc("evm_revert", snapshot)
        self.contracts.send("0x000000000000000000000000000000000000dead", None, value=1)
        self.anvil.mine(CONFIRMATIONS + 1)
        steps = self.follow()
        self.assertTrue(any(s["reorg"] for s in steps), steps)
        self.assertNotEqual(self.registry_root(), with_carol)
        self.assertEqual(self.registry_root(), self.contract_root())
        leaves = json.loads(self.registry("leaves"))["leaves"]
        self.assertEqual(len(leaves), 1, "only Alice's deposit is left")
        self.assertEqual(self.published(), [format(self.contract_root(), "064x"), "inf"])

    def test_a_restart_mid_stream_skips_nothing_and_repeats_nothing(self):
        users = [dict(k=str(1000 + i), deposit=str(1000 + i)) for i in range(4)]
        ids = identities(*users)
        for i, user in enumerate(users[:2]):
            self.contracts.send(self.address, "deposit(uint256)", ids[i],
                                value=int(user["deposit"]) * PRICE)
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        cursor = self.redis.command("GET", PREFIX + "registry:chain-cursor")
        for i, user in enumerate(users[2:], start=2):
            self.contracts.send(self.address, "deposit(uint256)", ids[i],
                                value=int(user["deposit"]) * PRICE)
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        # A registry that stopped after applying the later events but before
        # saving its cursor starts again from the earlier cursor.
        self.redis.command("SET", PREFIX + "registry:chain-cursor", cursor)
        steps = self.follow()
        self.assertEqual(sum(s["already_applied"] for s in steps), 2)
        self.assertEqual(sum(s["deposits"] for s in steps), 0)
        made = make_credentials(users, [])
        leaves = json.loads(self.registry("leaves"))["leaves"]
        self.assertEqual(leaves, made["leaves_hex"], "every leaf once, in chain order")
        self.assertEqual(self.registry_root(), self.contract_root())

    def slash(self, key_file):
        """The revoker's pass over the evidence; returns what it reported."""
        out = self.registry("slash", "--rpc", self.anvil.url, "--contract", self.address,
                            "--from-block", str(self.deployed_at), "--chain-key", key_file,
                            "--once")
        return [json.loads(line) for line in out.splitlines()]

    def chain_key_file(self, account):
        directory = tempfile.mkdtemp(prefix="zkc-chain-key-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", directory]))
        path = os.path.join(directory, "provider.key")
        with open(path, "w") as f:
            f.write(self.anvil.keys[account] + "\n")
        os.chmod(path, 0o600)
        return path

    def withdrawal_request(self, user, tickets, recipient, path):
        """A withdrawal of `user`'s deposit to `recipient` claiming `tickets`
        tickets and no refund, proved by contracts/test/withdrawal.mjs
        (snarkjs; its voucher key is the one this class's deployment
        accepts), sent as a relayer would."""
        x = self.contracts.call(self.address, "withdrawalBinding(address)(uint256)", recipient)
        done = subprocess.run(["node", "test/withdrawal.mjs", user["k"], str(SCOPE), str(tickets),
                               "0", "0", x.split()[0]], capture_output=True, text=True,
                              cwd=os.path.join(REPO_ROOT, "contracts"), timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        words = [int(done.stdout[2 + 64 * i:2 + 64 * (i + 1)], 16) for i in range(17)]
        proof, inputs = words[:8], words[8:16]
        self.contracts.send(
            self.address, "requestWithdrawal(uint256,address,uint32,uint64,uint256,uint256,uint256,"
            "uint256[8],uint256[20])", inputs[0], recipient, tickets, 0, inputs[2], inputs[6], inputs[7],
            "[" + ",".join(map(str, proof)) + "]", "[" + ",".join(map(str, path)) + "]",
            account=6)

    def deposit_status(self, name):
        record = self.contracts.call(self.address, "depositOf(uint256)((uint64,uint32,uint64,uint8))",
                                     self.ids[name])
        return int(record.strip("()").split(",")[3])

    def bob_double_spends(self, *more_specs):
        """Alice and Bob deposit; Bob uses ticket 0 twice (200, then 409 and
        an evidence entry). Returns the credentials of `more_specs`."""
        self.deposit("alice", ALICE)
        self.deposit("bob", BOB, account=2)
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        made = make_credentials([ALICE, BOB], [
            request_spec(1, 0, "POST", "/v1/chat/completions", b'{"n":1}'),
            request_spec(1, 0, "POST", "/v1/chat/completions", b'{"n":2}'), *more_specs])
        for credential, body, status in zip(made["credentials"], (b'{"n":1}', b'{"n":2}'),
                                            (200, 409)):
            answer = self.nginx.request("POST", "/v1/chat/completions", body,
                                        {"ZKCredit-Credential": credential["header"]})
            self.assertEqual(answer.status, status)
        return made["credentials"][2:]

    def test_a_double_spender_that_asks_to_withdraw_is_slashed_instead(self):
        self.bob_double_spends()
        # Before the revoker's pass, Bob asks to withdraw claiming one ticket
        # used: the evidence (ticket 0) is not a share of the withdrawal's
        # ticket 1, so the revoker slashes with k instead of challenging. His
        # leaf (index 1, next to Alice's) left the tree with the request.
        self.withdrawal_request(BOB, 1, self.anvil.accounts[7], tree_path(ALICE, BOB))
        self.assertEqual(self.deposit_status("bob"), 2, "withdrawing")

        outcomes = self.slash(self.chain_key_file(3))
        self.assertEqual([o["action"] for o in outcomes], ["slashed"], outcomes)
        self.assertEqual(self.deposit_status("bob"), 4, "slashed, not paid")
        owed = int(self.contracts.call(self.address, "treasuryOwed()(uint256)").split()[0])
        self.assertEqual(owed, int(BOB["deposit"]) * PRICE - BOUNTY)
        self.assertEqual(self.anvil.balance(self.address), int(ALICE["deposit"]) * PRICE + owed)

        # The follower applies the withdrawal and the slash; the roots agree.
        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        self.assertEqual(self.registry_root(), self.contract_root())

    def test_the_revoker_claims_a_double_spenders_deposit_on_chain(self):
        [alice] = self.bob_double_spends(request_spec(0, 0, "GET", "/v1/models"))
        # A deposit mined after the registry's last pass: the revoker's path
        # comes from the chain, not from the registry's (older) tree.
        self.deposit("carol", CAROL, account=4)
        self.redis.command("XADD", PREFIX + "evidence:double-spend", "*", "k", "1", "id", "2",
                           "x1", "3", "y1", "4", "x2", "5", "y2", "6")

        slasher = self.anvil.accounts[3]
        balance_before = self.anvil.balance(slasher)
        key_file = self.chain_key_file(3)
        outcomes = self.slash(key_file)
        self.assertEqual([o["action"] for o in outcomes], ["slashed", "rejected"], outcomes)
        self.assertEqual(outcomes[0]["id"], format(int(self.ids["bob"]), "064x"))
        receipt = json.loads(subprocess.run(
            [CAST, "receipt", "--rpc-url", self.anvil.url, "--json", outcomes[0]["transaction"]],
            capture_output=True, text=True, check=True, timeout=60).stdout)
        gas_paid = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)

        # The money: the bounty to the slasher, the rest of Bob's deposit
        # owed to the treasury, Alice's and Carol's untouched.
        self.assertEqual(self.anvil.balance(slasher), balance_before + BOUNTY - gas_paid)
        bob_paid = int(BOB["deposit"]) * PRICE
        owed = int(self.contracts.call(self.address, "treasuryOwed()(uint256)").split()[0])
        self.assertEqual(owed, bob_paid - BOUNTY)
        held = (int(ALICE["deposit"]) + int(CAROL["deposit"])) * PRICE
        self.assertEqual(self.anvil.balance(self.address), held + owed)

        # The registry follows the Slashed event; Bob's roots are gone.
        self.anvil.mine(CONFIRMATIONS)
        steps = self.follow()
        self.assertEqual(sum(s["slashes"] for s in steps), 1)
        self.assertEqual(self.registry_root(), self.contract_root())
        self.assertEqual(self.request(alice).status, 402, "its root predates the slash")

        # Settled once: a second pass has nothing to do, and a replay of the
        # stream (a lost cursor) finds the deposit already claimed.
        self.assertEqual(self.slash(key_file), [])
        self.redis.command("DEL", PREFIX + "registry:slash-cursor")
        self.assertEqual([o["action"] for o in self.slash(key_file)],
                         ["already-slashed", "rejected"])
        self.assertEqual(self.anvil.balance(self.address), held + owed)

        # The treasury's share leaves only to the treasury.
        treasury_before = self.anvil.balance(TREASURY)
        self.contracts.send(self.address, "payTreasury()", account=5)
        self.assertEqual(self.anvil.balance(TREASURY), treasury_before + owed)
        self.assertEqual(self.anvil.balance(self.address), held)

    def zkcredit(self, state, *args, expect=0):
        done = subprocess.run([CLIENT, "--state", state, "--json", *args],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, expect, done.stderr)
        return json.loads(done.stdout) if expect == 0 and done.stdout.strip() else done.stderr

    @unittest.skipUnless(CLIENT, "ZKC_CLIENT is not set")
    def test_a_user_deposits_with_the_zkcredit_command_and_pays_requests(self):
        # In ether: from the user's own key file, then through the gateway.
        state = os.path.join(tempfile.mkdtemp(prefix="zkc-user-"), "state.json")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", os.path.dirname(state)]))
        self.zkcredit(state, "init")
        key_file = self.chain_key_file(6)
        payer = self.anvil.accounts[6]
        before = self.anvil.balance(payer)
        chain = ["--rpc", self.anvil.url, "--contract", self.address, "--chain-key", key_file]
        done = self.zkcredit(state, "deposit", "--deposit", "4000", *chain)
        self.assertEqual((done["credits"], done["paid"], done["asset"], done["leaf_index"]),
                         (4000, str(4000 * PRICE), "ether", 0))
        receipt = json.loads(subprocess.run(
            [CAST, "receipt", "--rpc-url", self.anvil.url, "--json", done["transaction"]],
            capture_output=True, text=True, check=True, timeout=60).stdout)
        gas_paid = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
        self.assertEqual(self.anvil.balance(payer), before - 4000 * PRICE - gas_paid)
        self.assertEqual(self.anvil.balance(self.address), 4000 * PRICE)
        # An identity deposits once; the refusal costs nothing.
        self.assertIn("already holds a deposit",
                      self.zkcredit(state, "deposit", "--deposit", "4000", *chain,
                                    expect=EXIT_CHAIN))
        self.assertEqual(self.anvil.balance(self.address), 4000 * PRICE)

        self.anvil.mine(CONFIRMATIONS)
        self.follow()
        leaves = os.path.join(os.path.dirname(state), "leaves.json")
        self.registry("leaves", "--out", leaves)
        self.assertEqual(self.zkcredit(state, "sync", "--leaves", leaves)["leaf_index"], 0)
        served = subprocess.run([CLIENT, "--state", state, "--no-precompute", "request",
                                 f"http://127.0.0.1:{self.nginx.port}/v1/models"],
                                capture_output=True, timeout=300)
        self.assertEqual(served.returncode, 0, served.stderr)
        # The state now knows the gateway's deployment: a contract of another
        # scope gets nothing.
        other, _ = self.contracts.deploy(scope=78)
        self.assertIn("another deployment",
                      self.zkcredit(state, "deposit", "--deposit", "4000", "--rpc",
                                    self.anvil.url, "--contract", other, "--chain-key",
                                    key_file, expect=EXIT_CHAIN))
        self.assertEqual(self.anvil.balance(other), 0)

        # In a token: the command approves exactly the amount, then deposits.
        token = self.contracts.deploy_token()
        token_contract, _ = self.contracts.deploy(token=token, price=10**4, bounty=10**6)
        self.contracts.send(token, "mint(address,uint256)", payer, 10**8)
        second = os.path.join(os.path.dirname(state), "second.json")
        self.zkcredit(second, "init")
        done = self.zkcredit(second, "deposit", "--deposit", "2500", "--rpc", self.anvil.url,
                             "--contract", token_contract, "--chain-key", key_file)
        self.assertEqual((done["paid"], done["asset"]), (str(2500 * 10**4), token))
        balance = lambda who: int(self.contracts.call(token, "balanceOf(address)(uint256)",
                                                      who).split()[0])
        self.assertEqual(balance(token_contract), 2500 * 10**4)
        self.assertEqual(balance(payer), 10**8 - 2500 * 10**4)
        allowance = self.contracts.call(token, "allowance(address,address)(uint256)", payer,
                                        token_contract)
        self.assertEqual(int(allowance.split()[0]), 0, "nothing approved beyond the deposit")
        # Below the contract's minimum: refused before anything is sent.
        third = os.path.join(os.path.dirname(state), "third.json")
        self.zkcredit(third, "init")
        self.assertIn("at least", self.zkcredit(third, "deposit", "--deposit", "1", "--rpc",
                                                self.anvil.url, "--contract", token_contract,
                                                "--chain-key", key_file, expect=EXIT_CHAIN))
        self.assertEqual(balance(payer), 10**8 - 2500 * 10**4)

    def test_the_revoker_refuses_a_chain_key_others_can_read(self):
        key_file = self.chain_key_file(3)
        os.chmod(key_file, 0o644)
        done = subprocess.run([REGISTRY, "--redis", f"127.0.0.1:{self.redis.port}", "slash",
                               "--rpc", self.anvil.url, "--contract", self.address,
                               "--from-block", "0", "--chain-key", key_file, "--once"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 6, done.stderr)
        self.assertIn("chmod 600", done.stderr)
        self.assertNotIn(self.anvil.keys[3][2:18], done.stderr + done.stdout)


if __name__ == "__main__":
    unittest.main()
