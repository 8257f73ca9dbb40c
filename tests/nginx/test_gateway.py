"""The gateway end to end: real nginx, real module, real redis-server, and
credentials proved by the reference implementation with snarkjs."""

import concurrent.futures
import json
import os
import socket
import threading
import time
import unittest

import harness
from zkcredit_fixtures import (C_MAX, OTHER_SIGNING_KEY_HEX, REPO_ROOT, FakeRedis, Upstream,
                               check_refunds, gateway, make_credentials, publish_root,
                               request_spec)

ALICE = {"k": "123456789123456789", "deposit": "1000000"}
BOB = {"k": "987654321987654321", "deposit": "1000000"}

BODY = json.dumps({"model": "demo", "messages": [{"role": "user", "content": "hi"}]}).encode()

# One credential per name; see setUpClass for what each is used for.
REQUESTS = {
    "served": request_spec(0, 0, "POST", "/v1/chat/completions", BODY),
    "double_first": request_spec(0, 1, "POST", "/v1/chat/completions", b'{"a":1}'),
    "double_second": request_spec(0, 1, "POST", "/v1/chat/completions", b'{"a":2}'),
    "body_bound": request_spec(0, 2, "POST", "/v1/chat/completions", b'{"original":true}'),
    "concurrent": request_spec(0, 3, "GET", "/v1/models"),
    "policy": request_spec(1, 0, "POST", "/v1/policy", b"forbidden"),
    "upstream_error": request_spec(1, 1, "GET", "/v1/fail"),
    "shadow_valid": request_spec(1, 2, "GET", "/shadow/models"),
    "root_gated": request_spec(0, 4, "GET", "/v1/models?page=2"),
    "other_scope": dict(request_spec(1, 3, "GET", "/v1/models"), scope="78"),
    "other_key": dict(request_spec(1, 4, "GET", "/v1/models"), signing_key_hex=OTHER_SIGNING_KEY_HEX),
    "large_body": request_spec(1, 5, "PUT", "/v1/files", b"z" * 1_000_000),
    "chain_start": request_spec(0, 5, "GET", "/v1/models"),
    "reload": request_spec(1, 6, "GET", "/v1/models"),
}


def hdr(cred):
    return {"ZKCredit-Credential": cred["header"]}


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        names = list(REQUESTS)
        cls.made = make_credentials([ALICE, BOB], [REQUESTS[n] for n in names])
        cls.creds = dict(zip(names, cls.made["credentials"]))
        cls.redis = harness.Redis().start()
        cls.upstream = Upstream().start()
        # a generous store timeout: these tests are about outcomes, and the
        # sanitizer build under load is slow; StoreFailureTest covers timeouts
        cls.nginx = gateway(cls.redis.port, cls.upstream.port, redis_timeout="3s").start()
        publish_root(cls.redis, cls.made["root_hex"])

    @classmethod
    def tearDownClass(cls):
        with open(os.path.join(cls.nginx.prefix, "gated.log")) as f:
            log = cls.nginx.read_error_log() + f.read()
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.stop()
        for cred in cls.made["credentials"]:
            for detail in (cred["nullifier_hex"], cred["header"][-60:], cred["y_hex"]):
                assert detail not in log, f"a credential detail reached the logs: {detail}"

    def nullifier_record(self, name):
        flat = self.redis.command("HGETALL", "test:n:" + self.creds[name]["nullifier_hex"])
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    def assert_problem(self, resp, status, kind):
        self.assertEqual(resp.status, status, resp.body[:300])
        self.assertEqual(resp.header("Content-Type"), "application/problem+json")
        self.assertEqual(json.loads(resp.body)["type"], "urn:zkcredit:problem:" + kind)

    def test_valid_credential_is_served_charged_and_refunded(self):
        cred = self.creds["served"]
        resp = self.nginx.request("POST", "/v1/chat/completions", BODY, hdr(cred))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(json.loads(resp.body)["body_bytes"], len(BODY))
        refund = resp.header("ZKCredit-Refund")
        self.assertIsNotNone(refund)
        [check] = check_refunds(self.made["key_packed_hex"], [{"c_new": cred["c_new"], "refund_b64": refund}])
        self.assertTrue(check["ok"], "circomlibjs rejects the voucher signature")
        self.assertEqual(int(check["amount"]), C_MAX - 250)
        record = harness.eventually(lambda: self.nullifier_record("served"), lambda rec: "v" in rec)
        self.assertEqual((record["x"], record["y"], record["v"]), (cred["x_hex"], cred["y_hex"], refund))

        lookup = self.nginx.request("GET", "/zkcredit/refunds/" + cred["nullifier_hex"])
        self.assertEqual(lookup.status, 200)
        self.assertEqual(lookup.header("ZKCredit-Refund"), refund)
        self.assertEqual(json.loads(lookup.body)["refund"], refund)

        # a replay is told the ticket is spent, and gets the voucher again
        replay = self.nginx.request("POST", "/v1/chat/completions", BODY, hdr(cred))
        self.assert_problem(replay, 409, "ticket-spent")
        self.assertEqual(replay.header("ZKCredit-Refund"), refund)

    def test_refund_lookup_of_unknown_or_malformed_nullifier(self):
        self.assertEqual(self.nginx.request("GET", "/zkcredit/refunds/" + "0" * 64).status, 404)
        self.assertEqual(self.nginx.request("GET", "/zkcredit/refunds/XYZ").status, 404)
        self.assertEqual(self.nginx.request("GET", "/zkcredit/refunds/" + "A" * 64).status, 404)
        self.assertEqual(self.nginx.request("POST", "/zkcredit/refunds/" + "0" * 64, b"x").status, 405)

    def test_double_spend_reveals_the_key_and_records_evidence(self):
        first = self.creds["double_first"]
        second = self.creds["double_second"]
        resp = self.nginx.request("POST", "/v1/chat/completions", b'{"a":1}', hdr(first))
        self.assertEqual(resp.status, 200)
        resp = self.nginx.request("POST", "/v1/chat/completions", b'{"a":2}', hdr(second))
        self.assert_problem(resp, 409, "ticket-spent")
        # no polling: the refusal is only sent once the evidence is stored
        entries = self.redis.command("XRANGE", "test:evidence:double-spend", "-", "+")
        self.assertEqual(len(entries), 1)
        fields = entries[0][1]
        record = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}
        self.assertEqual(int(record["k"], 16), int(ALICE["k"]))
        self.assertEqual(record["nullifier"], first["nullifier_hex"])
        self.assertEqual({record["x1"], record["x2"]}, {first["x_hex"], second["x_hex"]})
        self.assertEqual(int(record["minute"]) % 60, 0)

    def test_changed_body_breaks_the_binding_and_spends_nothing(self):
        cred = self.creds["body_bound"]
        resp = self.nginx.request("POST", "/v1/chat/completions", b'{"original":false}', hdr(cred))
        self.assert_problem(resp, 402, "credential-invalid")
        self.assertEqual(self.nullifier_record("body_bound"), {})
        resp = self.nginx.request("POST", "/v1/chat/completions", b'{"original":true}', hdr(cred))
        self.assertEqual(resp.status, 200)

    def test_invalid_credentials_are_refused_without_touching_redis(self):
        keys_before = self.redis.command("DBSIZE")
        valid = self.creds["other_scope"]["header"]
        flipped = valid[:300] + ("A" if valid[300] != "A" else "B") + valid[301:]
        cases = {
            "not base64url": "!" * 407,
            "padding": valid[:405] + "==",
            "too short": valid[:406],
            "too long": valid + "A",
            "oversized": "A" * 6000,
            "empty": "",
            "wrong version": "Ag" + valid[2:],
            "flipped proof bit": flipped,
            "other scope": self.creds["other_scope"]["header"],
            "unknown server key": self.creds["other_key"]["header"],
        }
        for what, value in cases.items():
            with self.subTest(what=what):
                resp = self.nginx.request("GET", "/v1/models", headers={"ZKCredit-Credential": value})
                self.assert_problem(resp, 402, "credential-invalid")
                self.assertIn("ZKCredit ", resp.header("WWW-Authenticate"))
        self.assertEqual(self.redis.command("DBSIZE"), keys_before)

    def test_unknown_or_expired_root_is_refused_and_nothing_is_spent(self):
        cred = self.creds["root_gated"]
        root = self.made["root_hex"]
        path = "/v1/models?page=2"
        try:
            self.redis.command("ZREM", "test:roots", root)
            self.assert_problem(self.nginx.request("GET", path, headers=hdr(cred)), 402,
                                "root-not-accepted")
            publish_root(self.redis, root, stopped_at=str(int(time.time()) - 601))
            self.assert_problem(self.nginx.request("GET", path, headers=hdr(cred)), 402,
                                "root-not-accepted")
            self.assertEqual(self.nullifier_record("root_gated"), {})
            publish_root(self.redis, root, stopped_at=str(int(time.time()) - 30))
            self.assertEqual(self.nginx.request("GET", path, headers=hdr(cred)).status, 200)
        finally:
            publish_root(self.redis, root)

    def test_concurrent_replays_serve_exactly_once(self):
        cred = self.creds["concurrent"]

        def one(_):
            return self.nginx.request("GET", "/v1/models", headers=hdr(cred), timeout=60).status

        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(one, range(300)))
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(409), 299)

    def test_policy_violation_keeps_the_whole_charge_and_records_evidence(self):
        cred = self.creds["policy"]
        resp = self.nginx.request("POST", "/v1/policy", b"forbidden", hdr(cred))
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header("ZKCredit-Policy"), "the upstream's verdict must not leak")
        [check] = check_refunds(self.made["key_packed_hex"],
                                [{"c_new": cred["c_new"], "refund_b64": resp.header("ZKCredit-Refund")}])
        self.assertTrue(check["ok"])
        self.assertEqual(check["amount"], "0")
        entries = harness.eventually(lambda: self.redis.command("XRANGE", "test:evidence:policy", "-", "+"),
                                     lambda found: len(found) > 0)
        self.assertEqual(len(entries), 1)
        self.assertIn(cred["nullifier_hex"].encode(), entries[0][1])

    def test_upstream_error_still_returns_the_refund(self):
        cred = self.creds["upstream_error"]
        resp = self.nginx.request("GET", "/v1/fail", headers=hdr(cred))
        self.assertEqual(resp.status, 500)
        [check] = check_refunds(self.made["key_packed_hex"],
                                [{"c_new": cred["c_new"], "refund_b64": resp.header("ZKCredit-Refund")}])
        self.assertTrue(check["ok"])
        # no cost header: the configured charge is empty, so C_max is charged
        self.assertEqual(check["amount"], "0")

    def test_shadow_mode_serves_refusals_and_counts_them(self):
        resp = self.nginx.request("GET", "/shadow/models")
        self.assertEqual(resp.status, 200)
        resp = self.nginx.request("GET", "/shadow/models", headers={"ZKCredit-Credential": "garbage"})
        self.assertEqual(resp.status, 200)
        cred = self.creds["shadow_valid"]
        resp = self.nginx.request("GET", "/shadow/models", headers=hdr(cred))
        self.assertEqual(resp.status, 200)
        self.assertIsNotNone(resp.header("ZKCredit-Refund"))
        metrics = self.nginx.request("GET", "/metrics").body.decode()
        shadow = [line for line in metrics.splitlines() if line.startswith("zkcredit_shadow_passed_total ")]
        self.assertGreaterEqual(int(shadow[0].split()[1]), 2)

    def test_large_body_buffered_to_a_file_is_bound(self):
        cred = self.creds["large_body"]
        body = b"z" * 1_000_000
        resp = self.nginx.request("PUT", "/v1/files", body, hdr(cred))
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(json.loads(resp.body)["body_bytes"], len(body))
        self.assertIn("a client request body is buffered to a temporary file",
                      self.nginx.read_error_log())

    def test_refunds_chain_into_the_next_proof(self):
        start = self.creds["chain_start"]
        resp = self.nginx.request("GET", "/v1/models", headers=hdr(start))
        self.assertEqual(resp.status, 200)
        voucher = {"refund_b64": resp.header("ZKCredit-Refund"),
                   "refund_total_prev": start["refund_total"], "salt_prev": start["salt_new"]}
        made = make_credentials([ALICE, BOB], [request_spec(0, 6, "GET", "/v1/models", voucher=voucher)])
        [nxt] = made["credentials"]
        self.assertEqual(int(nxt["refund_total"]), C_MAX - 250)
        resp = self.nginx.request("GET", "/v1/models", headers=hdr(nxt))
        self.assertEqual(resp.status, 200, resp.body)

    def test_metrics_count_outcomes_without_user_labels(self):
        self.nginx.request("GET", "/v1/models")
        text = self.nginx.request("GET", "/metrics").body.decode()
        self.assertIn('zkcredit_requests_total{outcome="missing"}', text)
        self.assertIn("zkcredit_verify_seconds_count", text)
        for line in text.splitlines():
            if line.startswith("zkcredit_") and "{" in line:
                self.assertRegex(line, r'\{(outcome|le|reason)="[^"]*"\} ')

    def test_reload_under_load_drops_nothing(self):
        statuses, stop = [], threading.Event()

        def load():
            while not stop.is_set():
                statuses.append(self.nginx.request("GET", "/v1/models").status)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for _ in range(3):
                time.sleep(0.3)
                self.nginx.reload()
            cred = self.creds["reload"]
            self.assertEqual(self.nginx.request("GET", "/v1/models", headers=hdr(cred)).status, 200)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreater(len(statuses), 10)
        self.assertEqual(set(statuses), {402})


class StoreFailureTest(unittest.TestCase):
    """Redis stopped, restarted, silent, or answering garbage: 503, never
    served unverified, and nothing spent."""

    @classmethod
    def setUpClass(cls):
        cls.made = make_credentials([ALICE], [request_spec(0, i, "GET", "/v1/models") for i in range(4)])
        cls.upstream = Upstream().start()

    @classmethod
    def tearDownClass(cls):
        cls.upstream.stop()

    def assert_unavailable(self, resp, kind="store-unavailable"):
        """503: "store-unavailable" when the spend never reached the store,
        "outcome-unknown" when it did and no answer came back."""
        self.assertEqual(resp.status, 503, resp.body[:200])
        self.assertEqual(resp.header("Retry-After"), "1")
        problem = json.loads(resp.body)
        self.assertEqual(problem["type"], "urn:zkcredit:problem:" + kind)
        self.assertEqual(problem["spent"], "no" if kind == "store-unavailable" else "unknown")

    def test_redis_stopped_then_restarted(self):
        redis = harness.Redis().start()
        nginx = gateway(redis.port, self.upstream.port).start()
        cred = self.made["credentials"][0]
        try:
            publish_root(redis, self.made["root_hex"])
            redis.stop()
            for _ in range(3):
                self.assert_unavailable(nginx.request("GET", "/v1/models", headers=hdr(cred)))
            self.assertEqual(len(self.upstream.server.seen), 0)
            restarted = harness.Redis()
            restarted.port = redis.port
            restarted.start()
            publish_root(restarted, self.made["root_hex"])
            deadline = time.monotonic() + 10
            status = None
            while time.monotonic() < deadline:
                status = nginx.request("GET", "/v1/models", headers=hdr(cred)).status
                if status != 503:
                    break
                time.sleep(0.2)
            self.assertEqual(status, 200, "the worker did not reconnect")
            restarted.stop()
        finally:
            nginx.stop()

    def test_faulty_redis_fails_closed(self):
        answers = {"silent": "outcome-unknown", "garbage": "outcome-unknown",
                   "error": "store-unavailable", "close": "outcome-unknown"}
        for mode, kind in answers.items():
            with self.subTest(mode=mode):
                fake = FakeRedis(mode).start()
                nginx = gateway(fake.port, self.upstream.port).start()
                seen = len(self.upstream.server.seen)
                try:
                    cred = self.made["credentials"][1]
                    started = time.monotonic()
                    self.assert_unavailable(nginx.request("GET", "/v1/models", headers=hdr(cred)),
                                            kind)
                    self.assertLess(time.monotonic() - started, 5)
                    self.assertEqual(len(self.upstream.server.seen), seen)
                    self.assertGreaterEqual(fake.commands, 1)
                finally:
                    nginx.stop()
                    fake.stop()

    def test_client_gone_while_redis_is_silent(self):
        fake = FakeRedis("silent").start()
        nginx = gateway(fake.port, self.upstream.port, redis_timeout="2s").start()
        try:
            cred = self.made["credentials"][2]
            raw = ("GET /v1/models HTTP/1.1\r\nHost: x\r\nZKCredit-Credential: "
                   + cred["header"] + "\r\n\r\n").encode()
            with socket.create_connection(("127.0.0.1", nginx.port)) as s:
                s.sendall(raw)
                time.sleep(1.0)
            time.sleep(2.0)
            self.assert_unavailable(nginx.request("GET", "/v1/models",
                                                  headers=hdr(self.made["credentials"][3])))
        finally:
            nginx.stop()
            fake.stop()


class ConfigurationTest(unittest.TestCase):
    def check(self, body_tweak, message, key_mode=0o600):
        nginx = gateway(6379, 8000)
        try:
            os.chmod(os.path.join(nginx.prefix, "refund.key"), key_mode)
            with open(nginx.conf_path) as f:
                conf = f.read()
            with open(nginx.conf_path, "w") as f:
                f.write(body_tweak(conf))
            rc, output = nginx.check_config()
        finally:
            nginx.discard()
        return rc, output

    def test_signing_key_readable_by_others_is_refused(self):
        rc, output = self.check(lambda c: c, "", key_mode=0o644)
        self.assertNotEqual(rc, 0)
        self.assertIn("accessible by group or others", output)

    def test_missing_pieces_and_bad_keys_fail_nginx_t(self):
        cases = [
            (lambda c: c.replace("zkcredit_redis 127", "#"), '"zkcredit_redis" must be set'),
            (lambda c: c.replace("zkcredit_verification_key", "#"),
             '"zkcredit_verification_key" must be set'),
            (lambda c: c.replace("zkcredit_signing_key", "#"), '"zkcredit_signing_key" must be set'),
            (lambda c: c.replace("zkcredit_scope 77", "zkcredit_scope "
                                 "21888242871839275222246405745257275088548364400416034343698204186575808495617"),
             "invalid scope"),
            (lambda c: c.replace("zkcredit_redis_prefix test:;", "zkcredit_redis_prefix test:; "
                                 "zkcredit_redis 127.0.0.1:1;"), "is duplicate"),
            (lambda c: c.replace("location /v1/ {", "location /v1/ { zkcredit_accept_key abcd;"),
             "invalid public key"),
        ]
        for tweak, message in cases:
            with self.subTest(message=message):
                rc, output = self.check(tweak, message)
                self.assertNotEqual(rc, 0, output)
                self.assertIn(message, output)

    def test_verification_key_of_another_circuit_is_refused(self):
        other = os.path.join(REPO_ROOT, "tests", "vectors", "groth16", "multiplier",
                             "verification_key.json")
        rc, output = self.check(lambda c: c.replace(
            "zkcredit_verification_key ", f"zkcredit_verification_key {other}; #"), "")
        self.assertNotEqual(rc, 0)
        self.assertIn("public inputs; the credit circuit has 8", output)


if __name__ == "__main__":
    unittest.main()
