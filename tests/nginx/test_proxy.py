"""`zkcredit proxy` end to end: the real CLI's proxy in front of the real
gateway (nginx + module metering the example chat API), real redis-server
and the registry tool. Unmodified clients (the official `openai` npm SDK,
plain HTTP) pay through it with only the base URL changed; concurrent
requests are paid one after another on one refund chain; a proxy killed at
every step of a request never reuses a ticket and keeps every voucher; and
hostile local input costs nothing."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from receipt_fixtures import write_receipt_key
from zkcredit_fixtures import (C_MAX, REPO_ROOT, FaultyRelay, chat_expected, chat_params,
                               metered_chat_gateway, register_deposit, store_outage_once)

sys.path.insert(0, os.path.join(REPO_ROOT, "examples"))
import chat_upstream  # noqa: E402

CLIENT = os.environ.get("ZKC_CLIENT", "")
REGISTRY = os.environ.get("ZKC_REGISTRY", "")
PREFIX = "test:"
TOKEN = "local-proxy-token-7f3a"
NO_PRECOMPUTE = {"ZKCREDIT_PRECOMPUTE": "0"}
# Concurrent requests: 20, each a full proof; under the sanitizers (which
# run the suite again, several times slower) 8 take the same paths.
CONCURRENT = 8 if harness.NGINX_PRELOAD else 20


chat = chat_params


def upstream_answer(question):
    return chat_expected(chat_upstream, question)


def sse_text(raw):
    """The content an SSE chat stream carries, and its usage chunk."""
    text, usage = "", None
    for line in raw.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk["choices"]:
            text += chunk["choices"][0]["delta"].get("content") or ""
        if chunk.get("usage"):
            usage = chunk["usage"]
    return text, usage


class Proxy:
    """A `zkcredit proxy` process; its stderr is kept line by line."""

    def __init__(self, state, url, *args, env=None):
        self.proc = subprocess.Popen(
            [CLIENT, "--state", state, "proxy", "--listen", "127.0.0.1:0", *args, url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, **(env or {})))
        self.lines = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        ready = self.wait_for("ready; set base_url=")
        self.base_url = ready.split("set base_url=")[1].strip()
        self.port = int(self.base_url.split(":")[2].split("/")[0])

    def _read(self):
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line.decode(errors="replace"))
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)
            self.changed.notify_all()

    def wait_for(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    if line is not None and text in line:
                        return line
                if None in self.lines:
                    raise AssertionError(f"the proxy exited; it said {''.join(self.said())}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {text!r}; the proxy said {''.join(self.said())}")
                self.changed.wait(left)

    def said(self):
        return [line for line in self.lines if line is not None]

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if isinstance(body, dict) else body
            all_headers = {"Content-Type": "application/json"} if payload else {}
            all_headers.update(headers or {})
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def status(self, headers=None, answered=None):
        """The status endpoint; with `answered`, once that many requests are
        settled (the state is written just after each answer has left)."""
        def get():
            code, _, body = self.request("GET", "/zkcredit/proxy/status", headers=headers)
            assert code == 200, (code, body)
            return json.loads(body)
        if answered is None:
            return get()
        return harness.eventually(get, lambda s: s["requests"]["answered"] == answered)

    def raw(self, payload, timeout=10):
        """Sends bytes as they are; the answer's status (None: closed without one)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(payload)
                answer = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return None
        return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.") else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self._reap()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self._reap()

    def _reap(self):
        code = self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        self.proc.stderr.close()
        return code


@unittest.skipUnless(CLIENT and REGISTRY, "ZKC_CLIENT and ZKC_REGISTRY are not set")
class ProxyTest(unittest.TestCase):
    USERS = {"sdk": 20000, "crowd": 30000, "queue": 10000, "crash": 20000, "hostile": 5000,
             "stale": 5000, "resend": 5000}

    @classmethod
    def setUpClass(cls):
        cls.upstream = chat_upstream.make_server()
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.redis = harness.Redis().start()
        cls.nginx = metered_chat_gateway(
            cls.redis.port, cls.upstream.server_address[1], chat_upstream.PROMPT_PRICE,
            chat_upstream.COMPLETION_PRICE,
            extra_server="location /zkcredit/refunds/ { zkcredit_refunds; access_log off; }\n"
                         "location = /zkcredit/leaves.json "
                         "{ alias %%PREFIX%%/html/leaves.json; }\n"
                         "zkcredit_deposit_contract eip155:31337:0x" + "ab" * 20 + ";\n"
                         "zkcredit_receipt_key %%PREFIX%%/receipt.key;")
        write_receipt_key(cls.nginx.prefix)
        cls.nginx.start()
        cls.base = f"http://127.0.0.1:{cls.nginx.port}"
        cls.leaves_file = os.path.join(cls.nginx.prefix, "html", "leaves.json")
        cls.home = tempfile.mkdtemp(prefix="zkc-proxy-")
        cls.token_file = os.path.join(cls.home, "token")
        with open(os.open(cls.token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(TOKEN + "\n")
        for name, deposit in cls.USERS.items():
            state = cls.state(name)
            cls.cli(state, "init")
            registered = json.loads(cls.cli(state, "--json", "register", "--deposit", str(deposit)))
            cls.register_id(registered["id"], deposit)
        # "stale" alone holds the root before one more deposit; the others
        # sync to the root after it.
        leaves = cls.base + "/zkcredit/leaves.json"
        cls.cli(cls.state("stale"), "sync", "--leaves", leaves)
        cls.register_id("424242", 5000)
        for name in cls.USERS:
            if name != "stale":
                cls.cli(cls.state(name), "sync", "--leaves", leaves)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.shutdown()
            cls.upstream.server_close()
            if not harness.KEEP_TEMP:
                shutil.rmtree(cls.home, ignore_errors=True)

    @classmethod
    def state(cls, name):
        return os.path.join(cls.home, name + ".json")

    @classmethod
    def cli(cls, state, *args):
        done = subprocess.run([CLIENT, "--state", state, *args], capture_output=True, timeout=120,
                              env=dict(os.environ, **NO_PRECOMPUTE))
        if done.returncode != 0:
            raise AssertionError(f"zkcredit {' '.join(args)}: {done.stderr.decode()}")
        return done.stdout

    @classmethod
    def register_id(cls, identity, deposit):
        register_deposit(REGISTRY, cls.redis.port, cls.leaves_file, identity, deposit)

    @staticmethod
    def ask_at_once(proxy, bodies, timeout=120):
        """POSTs every chat body at the same time; the answers in order."""
        results = [None] * len(bodies)

        def ask(i):
            results[i] = proxy.request("POST", "/v1/chat/completions", bodies[i], timeout=timeout)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=timeout + 60)
        return results

    def read_state(self, name):
        with open(self.state(name)) as f:
            return json.load(f)

    def double_spends(self):
        return self.redis.command("XLEN", PREFIX + "evidence:double-spend")

    def assert_one_chain(self, name, deposit, tickets):
        """Tickets 0..n-1, each served with a voucher and built on the one
        before (an unforked refund chain); the balance is the deposit plus
        the refunds minus what the tickets cost."""
        state = self.read_state(name)
        self.assertEqual(state["next_ticket"], tickets)
        records = sorted(state["tickets"], key=lambda t: t["index"])
        self.assertEqual([t["index"] for t in records], list(range(tickets)))
        total = 0
        for t in records:
            self.assertEqual(t["status"], "served", t)
            self.assertIsNotNone(t["voucher"], t)
            self.assertEqual(t["refund_total"], total, t["index"])
            total += t["voucher"]["refund"]
        return records, deposit + total - tickets * C_MAX

    def test_openai_sdk_pays_through_the_proxy_with_only_its_base_url(self):
        proxy = Proxy(self.state("sdk"), self.base + "/v1", "--token-file", self.token_file)
        try:
            self.assertTrue(proxy.base_url.endswith("/v1"), proxy.base_url)
            question = "What does the SDK see of the proxy?"
            spec = {"base_url": proxy.base_url, "api_key": TOKEN, "calls": [
                {"kind": "json", "params": chat(question)},
                {"kind": "stream", "params": chat(question, stream=True)},
                {"kind": "models"},
                {"kind": "json", "params": chat("something forbidden")},
                {"kind": "stream", "params": dict(chat(question, stream=True),
                                                  stream_options=None)}]}
            done = subprocess.run(["node", os.path.join(REPO_ROOT, "tests", "reference",
                                                        "openai_sdk.mjs")],
                                  input=json.dumps(spec), capture_output=True, text=True,
                                  timeout=120, cwd=REPO_ROOT)
            self.assertEqual(done.returncode, 0, done.stderr[-2000:])
            as_json, streamed, models, refused, no_usage = json.loads(done.stdout)["results"]
            status = proxy.status({"Authorization": "Bearer " + TOKEN}, answered=5)
        finally:
            self.assertEqual(proxy.stop(), 0)
        answer, usage, charge = upstream_answer(question)

        self.assertTrue(as_json["ok"], as_json)
        self.assertEqual(as_json["completion"]["choices"][0]["message"]["content"], answer)
        self.assertEqual(as_json["completion"]["usage"], usage)
        self.assertIsNone(as_json["refund_header"])  # the voucher stays in the proxy

        self.assertTrue(streamed["ok"], streamed)
        chunks = streamed["chunks"]
        self.assertTrue(all(c["object"] == "chat.completion.chunk" for c in chunks))
        self.assertEqual("".join(c["choices"][0]["delta"].get("content") or ""
                                 for c in chunks if c["choices"]), answer)
        self.assertEqual(chunks[-1]["usage"], usage)

        self.assertTrue(models["ok"], models)
        self.assertEqual([m["id"] for m in models["models"]], list(chat_upstream.MODELS))

        # The upstream's content-policy error, as the SDK raises it: paid in full.
        self.assertFalse(refused["ok"])
        self.assertEqual(refused["status"], 400)
        self.assertEqual(refused["error_body"]["code"], "content_policy_violation")
        self.assertEqual(refused["error_body"]["message"],
                         "the request was refused by the content policy")

        # A stream that did not ask for usage: the proxy asked for it, so the
        # charge is the real usage, and took the usage chunk back out.
        self.assertTrue(no_usage["ok"], no_usage)
        chunks = no_usage["chunks"]
        self.assertEqual(len(chunks), usage["completion_tokens"] + 2)  # role, tokens, finish
        self.assertTrue(all(c["choices"] and c.get("usage") is None for c in chunks))
        self.assertEqual("".join(c["choices"][0]["delta"].get("content") or ""
                                 for c in chunks), answer)

        records, spendable = self.assert_one_chain("sdk", self.USERS["sdk"], 5)
        self.assertEqual([t["voucher"]["refund"] for t in records[:2]], [C_MAX - charge] * 2)
        self.assertEqual(records[3]["voucher"]["refund"], 0)
        # the policy refusal's receipt, kept on its ticket, and only there
        self.assertEqual([bool(t.get("policy_receipt")) for t in records],
                         [False, False, False, True, False])
        self.assertEqual(records[4]["voucher"]["refund"], C_MAX - charge)
        self.assertEqual(status["balance"]["spendable"], spendable)
        self.assertEqual(status["balance"]["tickets_used"], 5)
        self.assertEqual(status["pending_vouchers"], 0)
        self.assertEqual([t["status"] for t in status["tickets"]], ["served"] * 5)
        self.assertEqual(status["requests"], {"answered": 5, "failed": 0})
        # Never a secret, the token or a voucher in its output.
        output = "".join(proxy.said())
        for secret in [TOKEN, self.read_state("sdk")["secret"]] + \
                [t["voucher"]["value"] for t in records]:
            self.assertNotIn(secret, output)

    def test_twenty_concurrent_requests_are_paid_one_after_another(self):
        proxy = Proxy(self.state("crowd"), self.base + "/v1", env=NO_PRECOMPUTE)
        questions = [f"Concurrent question number {i} of {CONCURRENT}" for i in range(CONCURRENT)]
        try:
            results = self.ask_at_once(proxy, [chat(q, stream=i % 2 == 0)
                                               for i, q in enumerate(questions)])
            status = proxy.status(answered=CONCURRENT)
        finally:
            self.assertEqual(proxy.stop(), 0)

        charges = 0
        for i, (code, headers, body) in enumerate(results):
            answer, usage, charge = upstream_answer(questions[i])
            charges += charge
            self.assertEqual(code, 200, body)
            self.assertFalse(any(name.lower().startswith("zkcredit") for name in headers))
            if i % 2 == 0:
                self.assertTrue(headers["Content-Type"].startswith("text/event-stream"))
                self.assertNotIn(b"zkcredit-refund", body)
                self.assertEqual(sse_text(body), (answer, usage))
            else:
                completion = json.loads(body)
                self.assertEqual(completion["choices"][0]["message"]["content"], answer)
                self.assertEqual(completion["usage"], usage)
        records, spendable = self.assert_one_chain("crowd", self.USERS["crowd"], CONCURRENT)
        self.assertEqual(spendable, self.USERS["crowd"] - charges)
        self.assertEqual(status["balance"]["spendable"], spendable)
        self.assertEqual(status["queue"]["refused_full"], 0)

    def test_a_full_queue_is_refused_with_a_json_error_and_costs_nothing(self):
        proxy = Proxy(self.state("queue"), self.base + "/v1", "--queue", "1", env=NO_PRECOMPUTE)
        try:
            results = self.ask_at_once(proxy, [chat(f"queued {i}") for i in range(6)])
            status = proxy.status()
        finally:
            self.assertEqual(proxy.stop(), 0)
        served = [r for r in results if r[0] == 200]
        refused = [r for r in results if r[0] != 200]
        self.assertGreaterEqual(len(served), 1)
        self.assertGreaterEqual(len(refused), 1)
        for code, headers, body in refused:
            self.assertEqual(code, 503)
            self.assertEqual(headers["Retry-After"], "1")
            self.assertEqual(json.loads(body)["error"]["code"], "queue_full")
        self.assertEqual(status["queue"]["refused_full"], len(refused))
        self.assert_one_chain("queue", self.USERS["queue"], len(served))

    @staticmethod
    def ask_and_lose(proxy, point):
        """A request whose proxy is killed: the answer never comes."""
        try:
            proxy.request("POST", "/v1/chat/completions", chat(f"killed at {point}", stream=True))
        except (OSError, http.client.HTTPException):
            pass

    def test_killed_at_every_step_never_reuses_a_sent_ticket_and_keeps_vouchers(self):
        before = self.double_spends()
        expected = {}
        # A ticket killed before it left is proved again by the next run; one
        # that left waits for its voucher, which the next run fetches first.
        ticket = 0
        for point, status in [("reserved", "reserved"), ("proved", "reserved"), ("sent", "sent"),
                              ("streaming", "sent"), ("answered", "sent")]:
            with self.subTest(point=point):
                proxy = Proxy(self.state("crash"), self.base + "/v1",
                              env=dict(NO_PRECOMPUTE, ZKCREDIT_TEST_PAUSE=point))
                asker = threading.Thread(target=self.ask_and_lose, args=(proxy, point))
                asker.start()
                proxy.wait_for("test pause at " + point)
                if status == "sent":
                    # The request is on the wire: let the gateway serve it (a
                    # request whose client is gone before it is read is not
                    # spent at all).
                    nullifier = self.read_state("crash")["tickets"][-1]["nullifier"]
                    self.assertIsNotNone(harness.eventually(
                        lambda: self.redis.command("HGET", f"{PREFIX}n:{nullifier}", "v"),
                        lambda v: v is not None, timeout=30))
                proxy.kill()
                asker.join(timeout=30)
                after = self.read_state("crash")
                # Ticket i + 1 was durable before ticket i could leave.
                self.assertEqual(after["next_ticket"], ticket + 1)
                record = next(t for t in after["tickets"] if t["index"] == ticket)
                self.assertEqual(record["status"], status)
                if status == "sent":
                    expected[ticket] = record
                    ticket += 1
                else:
                    # Killed before sending: the gateway never saw the ticket.
                    self.assertIsNone(self.redis.command(
                        "HGET", f"{PREFIX}n:{record['nullifier']}", "x"))

        proxy = Proxy(self.state("crash"), self.base + "/v1", env=NO_PRECOMPUTE)
        try:
            code, _, body = proxy.request("POST", "/v1/chat/completions", chat("after the crashes"))
            self.assertEqual(code, 200, body)
        finally:
            self.assertEqual(proxy.stop(), 0)
        self.assertEqual(self.double_spends(), before)
        # Every voucher the gateway issued for a killed request is kept.
        fetched = json.loads(self.cli(self.state("crash"), "--json", "refund", "--fetch"))
        self.assertEqual(fetched["missing"], 0)
        tickets = {t["index"]: t for t in self.read_state("crash")["tickets"]}
        self.assertEqual(sorted(tickets), [0, 1, 2, 3])
        for index in expected:
            self.assertEqual(tickets[index]["status"], "served", index)
            self.assertIsNotNone(tickets[index]["voucher"], index)
        self.assertEqual(tickets[len(expected)]["status"], "served")

    def test_hostile_local_input_costs_nothing(self):
        proxy = Proxy(self.state("hostile"), self.base + "/v1", "--token-file", self.token_file,
                      "--max-body", "65536", env=NO_PRECOMPUTE)
        auth = {"Authorization": "Bearer " + TOKEN}
        host = f"Host: 127.0.0.1:{proxy.port}\r\n".encode()
        try:
            # A slow client holds a half-sent request the whole time.
            slow = socket.create_connection(("127.0.0.1", proxy.port))
            slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n" + host)

            self.assertIn(proxy.raw(b"GET /v1/models HTTP/1.1\r\n" + host + b"X-Huge: "
                                    + b"a" * 200000 + b"\r\n\r\n"), (None, 400, 413, 431))
            self.assertIn(proxy.raw(b"POST /v1/chat/completions HTTP/1.1\r\n" + host
                                    + b"Authorization: Bearer " + TOKEN.encode()
                                    + b"\r\nContent-Length: 10000000\r\n\r\n" + b"{" * 100000),
                          (None, 413))
            self.assertIn(proxy.raw(b"\x16\x03\x01\x02\x00garbage\r\n\r\n"), (None, 400))
            self.assertIn(proxy.raw(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"
                                    b"Content-Length: -5\r\n\r\n"), (None, 400, 421))
            code, _, body = proxy.request("GET", "/v1/models", headers=dict(
                auth, Host="attacker.example"))
            self.assertEqual((code, json.loads(body)["error"]["code"]), (421, "wrong_host"))
            self.assertEqual(proxy.raw(b"GET http://attacker.example/v1/models HTTP/1.1\r\n"
                                       + host + b"Authorization: Bearer " + TOKEN.encode()
                                       + b"\r\n\r\n"), 400)
            code, _, body = proxy.request("GET", "/admin", headers=auth)
            self.assertEqual((code, json.loads(body)["error"]["code"]), (404, "outside_deployment"))
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                code, _, body = proxy.request("GET", "/v1/models", headers=headers)
                self.assertEqual((code, json.loads(body)["error"]["code"]), (401, "bad_token"))
            # None of it was paid; a proper request still is.
            self.assertEqual(proxy.status(auth)["next_ticket"], 0)
            # by curl, with a body large enough for its Expect: 100-continue
            question = "Still here? " + "More words. " * 200
            started = time.monotonic()
            done = subprocess.run(["curl", "-sS", "--max-time", "60", "-H", "Authorization: Bearer "
                                   + TOKEN, "-H", "Content-Type: application/json",
                                   "-d", json.dumps(chat(question)),
                                   proxy.base_url + "/chat/completions"],
                                  capture_output=True, timeout=90)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(json.loads(done.stdout)["choices"][0]["message"]["content"],
                             upstream_answer(question)[0])
            # the slow client (60 s to finish its request) held up nobody
            self.assertLess(time.monotonic() - started, 30)
            slow.close()
            status = proxy.status(auth, answered=1)
        finally:
            self.assertEqual(proxy.stop(), 0)
        self.assertEqual((status["next_ticket"], status["requests"]["answered"]), (1, 1))
        self.assert_one_chain("hostile", self.USERS["hostile"], 1)
        self.assertNotIn(TOKEN, "".join(proxy.said()))

    def test_a_503_is_followed_by_the_same_request_again(self):
        outage = FaultyRelay(self.nginx.port, store_outage_once)
        proxy = Proxy(self.state("resend"), f"http://127.0.0.1:{outage.port}/v1",
                      env=NO_PRECOMPUTE)
        try:
            code, _, body = proxy.request("POST", "/v1/chat/completions", chat("resent?"))
            status = proxy.status(answered=1)
        finally:
            self.assertEqual(proxy.stop(), 0)
            outage.close()
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"],
                         upstream_answer("resent?")[0])
        # Byte-identical: the same credential and body, never a new proof.
        self.assertEqual(len(outage.credentials), 2)
        self.assertEqual(outage.credentials[0], outage.credentials[1])
        self.assertEqual(status["last_payment"]["resends"], 1)
        self.assert_one_chain("resend", self.USERS["resend"], 1)
        self.assertEqual(self.double_spends(), 0)

    def test_stale_root_is_synced_and_the_same_ticket_proved_again(self):
        old_root = self.read_state("stale")["tree"]["root"]
        # The root "stale" synced to expires (a deposit came after it).
        self.redis.command("ZADD", PREFIX + "roots", "1", old_root)
        proxy = Proxy(self.state("stale"), self.base + "/v1", env=NO_PRECOMPUTE)
        try:
            code, _, body = proxy.request("POST", "/v1/chat/completions", chat("after a new root"))
        finally:
            self.assertEqual(proxy.stop(), 0)
        self.assertEqual(code, 200, body)
        self.assertIn("proving ticket 0 again", "".join(proxy.said()))
        state = self.read_state("stale")
        self.assertNotEqual(state["tree"]["root"], old_root)
        self.assert_one_chain("stale", self.USERS["stale"], 1)
        self.assertEqual(self.double_spends(), 0)


if __name__ == "__main__":
    unittest.main()
