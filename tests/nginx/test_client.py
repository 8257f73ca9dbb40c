"""The zkcredit client end to end: the real CLI against the real gateway
(nginx + module), a real redis-server, the registry tool and an example
upstream. Users register, sync the tree from the leaves file nginx serves,
pay for requests with refunds feeding later proofs, and survive being killed
at every step without ever reusing a ticket. Proofs precomputed for the next
ticket are finished at request time, accepted by the gateway, used once, and
discarded when stale or damaged."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from zkcredit_fixtures import (C_MAX, OTHER_SIGNING_KEY_HEX, REPO_ROOT, SCOPE, FaultyRelay,
                               Upstream, gateway, register_deposit)

CLIENT = os.environ.get("ZKC_CLIENT", "")
REGISTRY = os.environ.get("ZKC_REGISTRY", "")
PREFIX = "test:"
COST = 250  # what the example upstream charges (X-Cost)
REFUND = C_MAX - COST

# Exit codes (docs/client.md).
EXIT_STATE, EXIT_LOCKED, EXIT_NETWORK, EXIT_TREE, EXIT_INSUFFICIENT, EXIT_REFUSED, EXIT_SPENT = (
    3, 4, 5, 6, 7, 8, 9)

LEAVES_LOCATION = "location = /zkcredit/leaves.json { alias %%PREFIX%%/html/leaves.json; }"


@unittest.skipUnless(CLIENT and REGISTRY, "ZKC_CLIENT and ZKC_REGISTRY are not set")
class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.Redis().start()
        cls.upstream = Upstream().start()
        cls.nginx = gateway(cls.redis.port, cls.upstream.port,
                            extra_server=LEAVES_LOCATION).start()
        cls.base = f"http://127.0.0.1:{cls.nginx.port}"
        cls.leaves_file = os.path.join(cls.nginx.prefix, "html", "leaves.json")
        cls.home = tempfile.mkdtemp(prefix="zkc-client-")
        # Other depositors: the anonymity set the users hide in.
        for i in range(3):
            cls.register_id(str(1000 + i), 5000)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.stop()
            if not harness.KEEP_TEMP:
                shutil.rmtree(cls.home, ignore_errors=True)

    @classmethod
    def register_id(cls, identity, deposit):
        register_deposit(REGISTRY, cls.redis.port, cls.leaves_file, identity, deposit)

    def state(self, name):
        return os.path.join(self.home, name + ".json")

    # The tests below the precompute tests prove every request in full: no
    # background precompute races their kills and pauses.
    NO_PRECOMPUTE = {"ZKCREDIT_PRECOMPUTE": "0"}

    def zkcredit(self, state, *args, expect=0, env=None):
        done = subprocess.run([CLIENT, "--state", state, *args], capture_output=True,
                              timeout=120,
                              env=dict(os.environ, **(env if env is not None else
                                                      self.NO_PRECOMPUTE)))
        self.assertEqual(done.returncode, expect,
                         f"zkcredit {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done

    def zkjson(self, state, *args, expect=0, env=None):
        return json.loads(self.zkcredit(state, "--json", *args, expect=expect, env=env).stdout)

    def new_user(self, name, deposit):
        """init, register with the provider, sync from the served leaves file."""
        state = self.state(name)
        self.zkjson(state, "init")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o600)
        reg = self.zkjson(state, "register", "--deposit", str(deposit))
        self.register_id(reg["id"], deposit)
        synced = self.zkjson(state, "sync", "--leaves", self.base + "/zkcredit/leaves.json")
        with open(self.leaves_file) as f:
            published = json.load(f)
        self.assertEqual(synced["root"], published["root"])
        self.assertEqual(published["leaves"][synced["leaf_index"]], reg["leaf"])
        return state

    def read_state(self, state):
        with open(state) as f:
            return json.load(f)

    def double_spends(self):
        return self.redis.command("XLEN", PREFIX + "evidence:double-spend")

    PRECOMPUTE = {"ZKCREDIT_PRECOMPUTE": "1"}

    def next_proof(self, state):
        return self.zkjson(state, "status")["next_ticket"]["precomputed"]

    def wait_for_precompute(self, state):
        """The background precompute that request and sync start."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.next_proof(state) == "ready":
                return
            time.sleep(0.1)
        self.fail("no background precompute appeared")

    def test_precomputed_proofs_are_accepted_and_used_once(self):
        state = self.new_user("paula", 5000)
        pre = state + ".precompute"
        # The deployment comes with the first challenge: nothing to precompute before.
        self.zkcredit(state, "precompute", expect=EXIT_STATE, env=self.PRECOMPUTE)
        self.assertEqual(self.next_proof(state), "unavailable")
        out = self.zkjson(state, "request", self.base + "/v1/first", env=self.PRECOMPUTE)
        self.assertEqual((out["http_status"], out["proof"]), (200, "full"))
        # The answer started a background precompute of ticket 1.
        self.wait_for_precompute(state)
        self.assertEqual(os.stat(pre).st_mode & 0o777, 0o600)
        used = self.state("paula-used-precompute")
        shutil.copy2(pre, used)
        before = self.double_spends()

        out = self.zkjson(state, "request", self.base + "/v1/second", env=self.PRECOMPUTE)
        self.assertEqual((out["http_status"], out["ticket"], out["proof"]),
                         (200, 1, "precomputed"), out)
        self.assertEqual(out["refund"], REFUND)
        # Its voucher signs the commitment the precompute chose: the next
        # proof (in full, from the refund state it opens) is accepted too.
        self.wait_for_precompute(state)
        out = self.zkjson(state, "request", self.base + "/v1/third", env=self.PRECOMPUTE)
        self.assertEqual((out["http_status"], out["ticket"], out["proof"]),
                         (200, 2, "precomputed"), out)

        # The precompute of ticket 1, put back, is never used for ticket 3.
        self.wait_for_precompute(state)
        shutil.copy2(used, pre)
        self.assertEqual(self.next_proof(state), "stale")
        done = self.zkcredit(state, "--json", "request", self.base + "/v1/fourth",
                             env=self.PRECOMPUTE)
        out = json.loads(done.stdout)
        self.assertEqual((out["http_status"], out["ticket"], out["proof"]), (200, 3, "full"))
        self.assertIn(b"discarded a stale precomputed proof", done.stderr)
        self.assertEqual(self.double_spends(), before)

    def test_a_precompute_for_an_old_root_or_a_damaged_one_is_discarded(self):
        state = self.new_user("quentin", 5000)
        pre = state + ".precompute"
        self.zkjson(state, "request", self.base + "/v1/first")
        self.zkjson(state, "precompute", env=self.PRECOMPUTE)
        self.assertEqual(self.next_proof(state), "ready")
        # A new depositor changes the root; after the sync the precompute
        # proves membership under a root that is no longer the state's.
        self.register_id("2024", 5000)
        self.zkjson(state, "sync", "--leaves", self.base + "/zkcredit/leaves.json")
        self.assertEqual(self.next_proof(state), "stale")
        done = self.zkcredit(state, "--json", "request", self.base + "/v1/after-sync",
                             env=self.PRECOMPUTE)
        out = json.loads(done.stdout)
        self.assertEqual((out["http_status"], out["proof"]), (200, "full"))
        self.assertIn(b"discarded a stale precomputed proof", done.stderr)
        # Damaged on disk (a torn copy, a bit flip): rebuilt, never half-used.
        self.wait_for_precompute(state)
        with open(pre, "rb") as f:
            good = f.read()
        for damaged in (good[:len(good) // 2], good[:40] + bytes([good[40] ^ 1]) + good[41:]):
            with open(pre, "wb") as f:
                f.write(damaged)
            self.assertEqual(self.next_proof(state), "corrupt")
            done = self.zkcredit(state, "--json", "request", self.base + "/v1/damaged",
                                 env=self.PRECOMPUTE)
            out = json.loads(done.stdout)
            self.assertEqual((out["http_status"], out["proof"]), (200, "full"))
            self.assertIn(b"discarded a corrupt precomputed proof", done.stderr)
            self.wait_for_precompute(state)
        out = self.zkjson(state, "request", self.base + "/v1/rebuilt", env=self.PRECOMPUTE)
        self.assertEqual((out["http_status"], out["proof"]), (200, "precomputed"))

    def test_init_refuses_to_overwrite_and_commands_need_a_synced_tree(self):
        state = self.state("fresh")
        self.zkcredit(state, "init")
        with open(state, "rb") as f:
            before = f.read()
        self.zkcredit(state, "init", expect=EXIT_STATE)
        with open(state, "rb") as f:
            self.assertEqual(f.read(), before)
        self.zkcredit(state, "request", self.base + "/v1/models", expect=EXIT_TREE)
        self.zkcredit(state, "register", "--deposit", "700")
        # Registered with the client but not yet with the provider.
        self.zkcredit(state, "sync", "--leaves", self.leaves_file, expect=EXIT_TREE)

    def test_paid_requests_with_refunds_carried_into_later_proofs(self):
        state = self.new_user("alice", 2000)
        body = b'{"model":"demo","messages":[{"role":"user","content":"hi"}]}'
        body_file = os.path.join(self.home, "body.json")
        with open(body_file, "wb") as f:
            f.write(body)
        seen_before = len(self.upstream.server.seen)
        # Ticket i needs (i + 1) * C_max <= D + R: tickets 2 to 4 are paid
        # for by the refunds of the earlier requests, not by the deposit.
        requests = [
            ("-d", "@" + body_file, self.base + "/v1/chat/completions"),
            (self.base + "/v1/models?page=2&sort=a%20b",),
            ("-X", "PUT", "-d", "x" * 5000, self.base + "/v1/files/upload"),
            ("-d", "", self.base + "/v1/empty"),
        ]
        for i, args in enumerate(requests):
            out = self.zkjson(state, "request", *args)
            self.assertEqual(out["http_status"], 200, out)
            self.assertEqual(out["ticket"], i)
            self.assertEqual(out["refund"], REFUND)
            self.assertEqual(out["refund_total"], REFUND * (i + 1))
            if i == 0:
                self.assertEqual(json.loads(out["body"])["body_bytes"], len(body))
        # Without --json the body goes to stdout as is.
        plain = self.zkcredit(state, "request", "-X", "PUT", self.base + "/v1/files/1")
        self.assertEqual(json.loads(plain.stdout)["path"], "/v1/files/1")
        self.assertIn(b"proving ticket 4", plain.stderr)

        seen = self.upstream.server.seen[seen_before:]
        self.assertEqual([(m, p, len(b)) for m, p, b in seen], [
            ("POST", "/v1/chat/completions", len(body)),
            ("GET", "/v1/models?page=2&sort=a%20b", 0),
            ("PUT", "/v1/files/upload", 5000),
            ("POST", "/v1/empty", 0),
            ("PUT", "/v1/files/1", 0),
        ])
        self.assertEqual(seen[0][2], body)

        balance = self.zkjson(state, "balance")
        self.assertEqual(balance["deposit"], 2000)
        self.assertEqual(balance["c_max"], C_MAX)
        self.assertEqual(balance["tickets_used"], 5)
        self.assertEqual(balance["refund_total"], 5 * REFUND)
        self.assertEqual(balance["spendable"], 2000 + 5 * REFUND - 5 * C_MAX)
        self.assertEqual(balance["requests_left"], 0)
        status = self.zkjson(state, "status")
        self.assertEqual(status["deployment"]["scope"], SCOPE)
        self.assertEqual([t["status"] for t in status["tickets"]], ["served"] * 5)

        # Ticket 5 would need 6000 > 2000 + 3750: refused before any ticket is taken.
        self.zkcredit(state, "request", self.base + "/v1/too-much", expect=EXIT_INSUFFICIENT)
        self.assertEqual(self.zkjson(state, "balance")["tickets_used"], 5)
        # Every voucher was received; none is missing.
        fetched = self.zkjson(state, "refund", "--fetch")
        self.assertEqual((fetched["fetched"], fetched["missing"]), (0, 0))

    def test_an_old_copy_of_the_state_reuses_a_ticket_and_is_refused(self):
        state = self.new_user("mallory", 5000)
        self.zkjson(state, "request", self.base + "/v1/models")
        copy = self.state("mallory-copy")
        shutil.copy2(state, copy)
        self.zkjson(state, "request", self.base + "/v1/first")
        before = self.double_spends()
        # The copy still says ticket 1 is next: a second request on ticket 1.
        out = self.zkjson(copy, "request", self.base + "/v1/second", expect=EXIT_SPENT)
        self.assertEqual(out["http_status"], 409)
        self.assertEqual(out["ticket"], 1)
        # The gateway caught the reuse (and learnt the secret: evidence).
        self.assertEqual(self.double_spends(), before + 1)

    def packed_key(self, private_hex):
        script = ("import('circomlibjs').then(async (c) => { const e = await c.buildEddsa();"
                  " const b = await c.buildBabyjub();"
                  f" console.log(Buffer.from(b.packPoint(e.prv2pub(Buffer.from('{private_hex}',"
                  " 'hex')))).toString('hex')); })")
        done = subprocess.run(["node", "-e", script], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=True, timeout=60)
        return done.stdout.strip()

    def test_a_refused_credential_is_proved_again_with_the_key_the_refusal_names(self):
        teacher = self.new_user("teacher", 5000)
        self.zkjson(teacher, "request", self.base + "/v1/models")
        # A state that learnt the deployment when its key was another one:
        # its first proof (genesis) names a key the gateway does not accept.
        deployment = self.read_state(teacher)["deployment"]
        current = deployment["key"]
        deployment["key"] = self.packed_key(OTHER_SIGNING_KEY_HEX)
        deployment["keys"] = [deployment["key"]]
        state = self.new_user("rotated", 5000)
        doc = self.read_state(state)
        doc["deployment"] = deployment
        with open(state, "w") as f:
            json.dump(doc, f)
        out = self.zkjson(state, "request", self.base + "/v1/refused", expect=EXIT_REFUSED)
        self.assertEqual(out["http_status"], 402)
        after = self.read_state(state)
        self.assertEqual(after["tickets"][0]["status"], "refused")
        # The challenge of the refusal taught the client the current key; the
        # refused ticket left no share in the store, so it is proved again
        # (the chain cannot skip it, docs/protocol.md §5.3).
        self.assertEqual(after["deployment"]["key"], current)
        out = self.zkjson(state, "request", self.base + "/v1/accepted")
        self.assertEqual((out["http_status"], out["ticket"]), (200, 0))

    def run_until_pause(self, state, point, url):
        """Starts a request that stops itself at `point`; returns the process."""
        proc = subprocess.Popen([CLIENT, "--state", state, "request", url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ, ZKCREDIT_TEST_PAUSE=point,
                                         **self.NO_PRECOMPUTE))
        deadline = time.monotonic() + 60
        said = b""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            said += line
            if b"test pause at " + point.encode() in line or not line:
                break
        if b"test pause at " + point.encode() not in said:
            self.kill(proc)
            self.fail(f"{point}: no pause; the client said {said.decode(errors='replace')}")
        return proc

    def kill(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()

    def wait_for_voucher(self, nullifier_hex):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.redis.command("HGET", f"{PREFIX}n:{nullifier_hex}", "v"):
                return
            time.sleep(0.05)
        self.fail("the gateway stored no voucher")

    @staticmethod
    def chain_ticket(doc):
        """The ticket the state's newest voucher allows (docs/protocol.md §5.3)."""
        return 1 + max((t["index"] for t in doc["tickets"] if t["voucher"]), default=-1)

    def test_killed_at_every_step_never_reuses_a_sent_ticket(self):
        state = self.new_user("crashy", 10000)
        before = self.double_spends()
        for n, point in enumerate(["reserved", "proving", "proving-resumed", "proved",
                                   "sent", "answered"]):
            with self.subTest(point=point):
                ticket = self.chain_ticket(self.read_state(state))
                pause = "proving" if point == "proving-resumed" else point
                proc = self.run_until_pause(state, pause, f"{self.base}/v1/crash/{n}")
                if point == "reserved":
                    # It holds the state: a second client is turned away.
                    self.zkcredit(state, "balance", expect=EXIT_LOCKED)
                if point == "proving-resumed":
                    # Let it prove for a moment, then kill it mid-computation.
                    proc.send_signal(signal.SIGCONT)
                    time.sleep(0.05)
                if point in ("sent", "answered"):
                    # The request is on the wire; let the gateway serve it.
                    record = self.read_state(state)["tickets"][-1]
                    self.assertEqual(record["status"], "sent")
                    self.wait_for_voucher(record["nullifier"])
                self.kill(proc)
                after = self.read_state(state)
                # Ticket i + 1 was durable before ticket i could leave.
                self.assertEqual(after["next_ticket"], ticket + 1)
                killed = next(t for t in after["tickets"] if t["index"] == ticket)
                sent = killed["status"] == "sent"
                self.assertEqual(sent, point in ("sent", "answered"))
                if not sent:
                    # Nothing of it left the machine: the gateway holds no share.
                    self.assertIsNone(self.redis.command(
                        "HGET", f"{PREFIX}n:{killed['nullifier']}", "x"))
                # The next run proves the same ticket again if it never left;
                # after one that left, it first recovers that ticket's voucher
                # from the refund location, then takes the next ticket.
                out = self.zkjson(state, "request", f"{self.base}/v1/after/{n}")
                self.assertEqual(out["http_status"], 200, out)
                self.assertEqual(out["ticket"], ticket + 1 if sent else ticket)

        self.assertEqual(self.double_spends(), before)
        tickets = self.read_state(state)["tickets"]
        self.assertEqual([t["index"] for t in tickets], list(range(8)))
        self.assertEqual({t["status"] for t in tickets}, {"served"})
        # A settled ticket keeps nothing of its request.
        self.assertFalse(any("pending_request" in t for t in tickets))
        self.assertTrue(all(t["voucher"]["refund"] == REFUND for t in tickets))
        fetched = self.zkjson(state, "refund", "--fetch")
        self.assertEqual(fetched["missing"], 0)

    def test_refund_fetch_recovers_a_lost_answer(self):
        state = self.new_user("lossy", 5000)
        proc = self.run_until_pause(state, "answered", self.base + "/v1/lost")
        self.kill(proc)
        record = self.read_state(state)["tickets"][-1]
        self.assertEqual((record["status"], record["voucher"]), ("sent", None))
        balance = self.zkjson(state, "balance")
        self.assertEqual(balance["vouchers_missing"], 1)
        self.assertEqual(balance["refund_total"], 0)
        fetched = self.zkjson(state, "refund", "--fetch")
        self.assertEqual((fetched["fetched"], fetched["missing"]), (1, 0))
        self.assertEqual(fetched["refund_total"], REFUND)
        record = self.read_state(state)["tickets"][-1]
        self.assertEqual(record["status"], "served")
        # The recovered voucher carries the total into the next proof.
        out = self.zkjson(state, "request", self.base + "/v1/next")
        self.assertEqual(out["refund_total"], 2 * REFUND)

    def test_a_request_lost_before_the_gateway_is_sent_again_before_the_next(self):
        # A network that takes the request and loses it: the gateway never
        # saw the ticket, so there is no voucher to fetch, and the chain
        # cannot skip the ticket (docs/protocol.md §5.3).
        relay = FaultyRelay(self.nginx.port, lambda n: "drop" if n == 1 else None)
        self.addCleanup(relay.close)
        state = self.new_user("dropped", 5000)
        via_relay = f"http://127.0.0.1:{relay.port}"
        self.zkcredit(state, "request", via_relay + "/v1/models", expect=EXIT_NETWORK)
        record = self.read_state(state)["tickets"][0]
        self.assertEqual(record["status"], "sent")
        self.assertIsNone(self.redis.command("HGET", f"{PREFIX}n:{record['nullifier']}", "x"))
        fetched = self.zkjson(state, "refund", "--fetch")
        self.assertEqual((fetched["fetched"], fetched["missing"]), (0, 1))
        # The next request first sends the lost one again, byte for byte;
        # its voucher moves the chain on to ticket 1.
        out = self.zkjson(state, "request", "-X", "POST", "-d", "{}", via_relay + "/v1/chat")
        self.assertEqual((out["http_status"], out["ticket"]), (200, 1))
        self.assertEqual(len(relay.credentials), 3)
        self.assertEqual(relay.credentials[0], relay.credentials[1])
        tickets = self.read_state(state)["tickets"]
        self.assertEqual([(t["status"], t["voucher"] is not None) for t in tickets],
                         [("served", True), ("served", True)])
        self.assertNotIn("pending_request", tickets[0])
        self.assertEqual(self.double_spends(), 0)


if __name__ == "__main__":
    unittest.main()
