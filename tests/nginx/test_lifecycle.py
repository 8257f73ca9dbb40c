"""The gate in nginx's real request lifecycle: internal redirects, access
checks, HTTP/2, bodies in chunks and files, thread-pool overflow, the client
gone at each step, a store that answers late, and the configuration rules
that keep one scope one deployment. Real nginx, real module, real Redis."""

import base64
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import harness
from zkcredit_fixtures import (C_MAX, FakeRedis, LateRedis, OTHER_SIGNING_KEY_HEX, Upstream,
                               check_refunds, deployment_directives,
                               free_port_without_listener, make_credentials, publish_root,
                               request_spec, voucher_amount, write_signing_key)

ALICE = {"k": "111111111111111111", "deposit": "1000000"}
BOB = {"k": "222222222222222222", "deposit": "1000000"}

CHAT = b'{"model":"demo","messages":[{"role":"user","content":"hi"}]}'
FILE_BODY = b"f" * 300_000

REQUESTS = {
    # internal redirects
    "try_files": request_spec(0, 0, "POST", "/v1/tryfiles/x", CHAT),
    "error_page_uri": request_spec(0, 1, "POST", "/v1/fail/uri", CHAT),
    "error_page_named": request_spec(0, 2, "GET", "/v1/fail-named/x"),
    "accel": request_spec(0, 3, "GET", "/v1/accel"),
    # nginx's own access checks come first
    "denied": request_spec(0, 4, "GET", "/v1/denied/x"),
    "basic_refused": request_spec(0, 5, "GET", "/v1/basic/x"),
    "basic_served": request_spec(0, 6, "GET", "/v1/basic/x"),
    "subrequest_refused": request_spec(0, 7, "GET", "/v1/subauth/x"),
    # a slow, never valid verification that keeps the thread busy
    "slow_job": request_spec(1, 0, "POST", "/v1/slowjob", b"not the body that is sent"),
    "gone_queued": request_spec(0, 8, "GET", "/v1/models"),
    "gone_in_thread": request_spec(0, 9, "POST", "/v1/upload", FILE_BODY),
    "gone_h2": request_spec(0, 10, "GET", "/v1/models?h2"),
    # what the store and the upstream do after the spend
    "late_reply": request_spec(0, 11, "GET", "/v1/models?late"),
    "delayed_first": request_spec(0, 12, "GET", "/v1/models?first"),
    "on_time_second": request_spec(0, 13, "GET", "/v1/models?second"),
    "client_gone_upstream": request_spec(0, 14, "GET", "/v1/slow"),
    "upstream_down": request_spec(0, 15, "GET", "/v1/down/x"),
    "stale_root": request_spec(0, 16, "GET", "/v1/models?stale"),
    "forged_refund": request_spec(0, 17, "GET", "/v1/forge"),
    "policy_twice": request_spec(0, 18, "GET", "/v1/policy-twice"),
    "tab_around": request_spec(0, 19, "GET", "/v1/models?tab"),
    "redis_auth": request_spec(0, 20, "GET", "/v1/models?auth"),
    "gone_during_spend": request_spec(0, 21, "GET", "/v1/models?spend"),
    "stale_holder": request_spec(0, 22, "GET", "/v1/models?stale-holder"),
    # HTTP/2
    "h2_length": request_spec(1, 1, "POST", "/v1/chat/completions", CHAT),
    "h2_stream": request_spec(1, 2, "PUT", "/v1/stream", CHAT),
    "h2_file": request_spec(1, 3, "PUT", "/v1/file", FILE_BODY),
    # a retired key of one location is not accepted at its sibling
    "other_key_sibling": dict(request_spec(1, 4, "GET", "/b/models"), scope="78"),
}

REDIS_PASSWORD = "s3cret-for-tests"
DEPOSIT_CONTRACT = "eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3"


def hdr(cred):
    return {"ZKCredit-Credential": cred["header"]}


def setUpModule():
    global MADE, CREDS
    names = list(REQUESTS)
    MADE = make_credentials([ALICE, BOB], [REQUESTS[n] for n in names])
    CREDS = dict(zip(names, MADE["credentials"]))


def gated_server(redis_port, upstream_port, locations, extra_http="", redis_timeout="3s",
                 server_extra=""):
    return f"""
    zkcredit_redis 127.0.0.1:{redis_port};
    zkcredit_redis_timeout {redis_timeout};
    zkcredit_redis_prefix test:;
    {extra_http}
    upstream api {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        listen 127.0.0.1:%%PORT_h2%% http2;
        {deployment_directives()}
        client_max_body_size 400m;
        client_body_buffer_size 16k;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        {server_extra}
        location /zkcredit/refunds/ {{ zkcredit_refunds; }}
        location = /.well-known/zkcredit {{ zkcredit_discovery; }}
        {locations}
    }}
"""


API = """
        location /v1/ {
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
        }
"""


def start_gateway(redis_port, upstream_port, locations=API, main_body="", **kwargs):
    nginx = harness.Nginx(gated_server(redis_port, upstream_port, locations, **kwargs),
                          main_body=main_body)
    write_signing_key(nginx.prefix)
    return nginx


def send_slow_job(nginx, size=300 * 1024 * 1024):
    """A decodable credential with a 300 MB body: hashing it keeps one
    verification thread busy for about half a second, and its proof then
    fails (it binds another body), so it is never spent. Returns once nginx
    has read the body, with the socket to read the answer from."""
    s = socket.create_connection(("127.0.0.1", nginx.port))
    s.sendall((f"POST /v1/slowjob HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
               f"ZKCredit-Credential: {CREDS['slow_job']['header']}\r\n\r\n").encode())
    chunk = b"\0" * (1 << 20)
    for _ in range(size >> 20):
        s.sendall(chunk)
    # what is still in the socket buffers is read in a few milliseconds
    time.sleep(0.05)
    return s


class GateCase(unittest.TestCase):
    """One gateway, one Redis, one upstream per class."""

    locations = API
    main_body = ""
    extra_http = ""
    server_extra = ""
    redis_timeout = "3s"

    @classmethod
    def setUpClass(cls):
        cls.redis = harness.Redis().start()
        cls.upstream = Upstream().start()
        cls.nginx = start_gateway(cls.redis.port, cls.upstream.port, cls.locations,
                                  main_body=cls.main_body, extra_http=cls.extra_http,
                                  redis_timeout=cls.redis_timeout, server_extra=cls.server_extra)
        cls.prepare(cls.nginx)
        cls.nginx.start()
        publish_root(cls.redis, MADE["root_hex"])

    @classmethod
    def prepare(cls, nginx):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.stop()

    def record(self, name):
        flat = self.redis.command("HGETALL", "test:n:" + CREDS[name]["nullifier_hex"])
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    def assert_served_once(self, name, resp, charged=250):
        """One voucher, valid for the request's commitment, stored under its
        nullifier, for C_max minus the charge."""
        cred = CREDS[name]
        vouchers = [v for k, v in resp.headers if k.lower() == "zkcredit-refund"]
        self.assertEqual(len(vouchers), 1, resp.headers)
        [check] = check_refunds(MADE["key_packed_hex"], [{"c_new": cred["c_new"], "refund_b64": vouchers[0]}])
        self.assertTrue(check["ok"], "circomlibjs rejects the voucher")
        self.assertEqual(int(check["amount"]), C_MAX - charged)
        stored = harness.eventually(lambda: self.record(name), lambda rec: "v" in rec)
        self.assertEqual(stored.get("v"), vouchers[0])
        self.assertEqual(stored["x"], cred["x_hex"])
        return vouchers[0]

    def assert_problem(self, resp, status, kind):
        self.assertEqual(resp.status, status, resp.body[:300])
        self.assertEqual(resp.header("Content-Type"), "application/problem+json")
        problem = json.loads(resp.body)
        self.assertEqual(problem["type"], "urn:zkcredit:problem:" + kind)
        return problem

    def curl_h2(self, method, path, headers, body=None, stream_body=False, timeout=30):
        """A request over HTTP/2 (h2c, prior knowledge) with curl; returns
        (status, headers as a list of pairs, body)."""
        cmd = ["curl", "-sS", "--http2-prior-knowledge", "-X", method, "-D", "-",
               "-o", os.path.join(self.nginx.prefix, "h2-body"), "-m", str(timeout)]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        if body is not None:
            # "-T -" sends DATA frames without a content-length
            cmd += ["-T", "-"] if stream_body else ["--data-binary", "@-"]
        cmd.append(f"http://127.0.0.1:{self.nginx.ports['h2']}{path}")
        done = subprocess.run(cmd, input=body, capture_output=True, timeout=timeout + 10)
        lines = done.stdout.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/2") else 0
        pairs = [tuple(part.strip() for part in line.split(":", 1))
                 for line in lines[1:] if ":" in line]
        body_path = os.path.join(self.nginx.prefix, "h2-body")
        if not os.path.exists(body_path):
            return status, pairs, b""
        with open(body_path, "rb") as f:
            body = f.read()
        os.unlink(body_path)
        return status, pairs, body


class RedirectTest(GateCase):
    """try_files, error_page and X-Accel-Redirect redirect a paid request:
    it is gated once, and the response that finally leaves carries the
    voucher, whether the redirect lands in a gated location or not."""

    locations = API + """
        location /v1/tryfiles/ {
            zkcredit on;
            try_files /nonexistent @api;
        }
        location @api {
            proxy_pass http://api;
        }
        location /v1/fail/ {
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
            proxy_intercept_errors on;
            error_page 500 = /v1/recovered;
        }
        location = /v1/recovered {
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
        }
        location /v1/fail-named/ {
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
            proxy_intercept_errors on;
            error_page 500 = @recover;
        }
        location @recover {
            rewrite ^ /v1/recovered-named break;
            proxy_pass http://api;
        }
        location /internal/ {
            internal;
            return 200 "done\\n";
        }
"""

    def test_try_files_into_an_ungated_named_location(self):
        resp = self.nginx.request("POST", "/v1/tryfiles/x", CHAT, hdr(CREDS["try_files"]))
        self.assertEqual(resp.status, 200, resp.body)
        # the named location is ungated: the charge is the gating location's,
        # which names none, so C_max
        self.assert_served_once("try_files", resp, charged=C_MAX)
        self.assertIn(("POST", "/v1/tryfiles/x", CHAT), self.upstream.server.seen)

    def test_error_page_uri_into_a_gated_location_is_not_gated_again(self):
        resp = self.nginx.request("POST", "/v1/fail/uri", CHAT, hdr(CREDS["error_page_uri"]))
        self.assertEqual(resp.status, 200, resp.body)
        self.assert_served_once("error_page_uri", resp)
        self.assertEqual(json.loads(resp.body)["path"], "/v1/recovered")

    def test_error_page_named_location(self):
        resp = self.nginx.request("GET", "/v1/fail-named/x", headers=hdr(CREDS["error_page_named"]))
        self.assertEqual(resp.status, 200, resp.body)
        self.assert_served_once("error_page_named", resp)
        self.assertEqual(json.loads(resp.body)["path"], "/v1/recovered-named")

    def test_x_accel_redirect(self):
        resp = self.nginx.request("GET", "/v1/accel", headers=hdr(CREDS["accel"]))
        self.assertEqual((resp.status, resp.body), (200, b"done\n"))
        self.assert_served_once("accel", resp, charged=C_MAX)


class AccessOrderTest(GateCase):
    """allow/deny, auth_basic and auth_request run first: what they refuse
    spends nothing and is answered as nginx answers it, and "satisfy any"
    does not skip the gate."""

    locations = """
        location /v1/denied/ {
            deny all;
            zkcredit on;
            proxy_pass http://api;
        }
        location /v1/basic/ {
            auth_basic "test";
            auth_basic_user_file %%PREFIX%%/htpasswd;
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
        }
        location /v1/subauth/ {
            auth_request /auth;
            zkcredit on;
            proxy_pass http://api;
        }
        location = /auth {
            internal;
            return 403;
        }
        location /v1/any/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_basic "test";
            auth_basic_user_file %%PREFIX%%/htpasswd;
            zkcredit on;
            proxy_pass http://api;
        }
"""

    @classmethod
    def prepare(cls, nginx):
        # "user:password", crypted with the {PLAIN} scheme nginx accepts
        with open(os.path.join(nginx.prefix, "htpasswd"), "w") as f:
            f.write("user:{PLAIN}password\n")

    def basic(self):
        return "Basic " + base64.b64encode(b"user:password").decode()

    def test_deny_answers_403_and_spends_nothing(self):
        self.assertEqual(self.nginx.request("GET", "/v1/denied/x").status, 403)
        resp = self.nginx.request("GET", "/v1/denied/x", headers=hdr(CREDS["denied"]))
        self.assertEqual(resp.status, 403)
        self.assertIsNone(resp.header("ZKCredit-Refund"))
        self.assertEqual(self.record("denied"), {})

    def test_auth_basic_comes_first(self):
        self.assertEqual(self.nginx.request("GET", "/v1/basic/x").status, 401)
        resp = self.nginx.request("GET", "/v1/basic/x", headers=hdr(CREDS["basic_refused"]))
        self.assertEqual(resp.status, 401)
        self.assertEqual(self.record("basic_refused"), {})
        resp = self.nginx.request("GET", "/v1/basic/x", headers={"Authorization": self.basic()})
        self.assert_problem(resp, 402, "credential-required")
        resp = self.nginx.request("GET", "/v1/basic/x", headers={
            "Authorization": self.basic(), **hdr(CREDS["basic_served"])})
        self.assertEqual(resp.status, 200, resp.body)
        self.assert_served_once("basic_served", resp)

    def test_auth_request_comes_first(self):
        resp = self.nginx.request("GET", "/v1/subauth/x", headers=hdr(CREDS["subrequest_refused"]))
        self.assertEqual(resp.status, 403)
        self.assertEqual(self.record("subrequest_refused"), {})

    def test_satisfy_any_does_not_skip_the_gate(self):
        self.assert_problem(self.nginx.request("GET", "/v1/any/x"), 402, "credential-required")


class ThreadPoolTest(unittest.TestCase):
    """More credentials than verification slots: each request gets one
    answer, nothing crashes, and an overflow is a 503 that spent nothing.
    The slow job keeps the only thread busy (send_slow_job)."""

    def run_gateway(self, main_body, extra_http):
        redis = harness.Redis().start()
        upstream = Upstream().start()
        nginx = start_gateway(redis.port, upstream.port, API.replace(
            "zkcredit on;", "zkcredit on; zkcredit_thread_pool zk;"),
            main_body=main_body, extra_http=extra_http)
        nginx.start()
        publish_root(redis, MADE["root_hex"])
        return redis, upstream, nginx

    def split_post(self, nginx, results, i):
        """Headers now, the body 50 ms later; records every response."""
        with socket.create_connection(("127.0.0.1", nginx.port), timeout=60) as s:
            s.sendall(b"POST /v1/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Length: 5\r\nZKCredit-Credential: " + b"A" * 407 + b"\r\n\r\n")
            time.sleep(0.05)
            s.sendall(b"hello")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        results[i] = data

    def overflow(self, main_body, extra_http):
        redis, upstream, nginx = self.run_gateway(main_body, extra_http)
        try:
            slow = send_slow_job(nginx)
            results = {}
            threads = [threading.Thread(target=self.split_post, args=(nginx, results, i))
                       for i in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            slow.settimeout(120)
            slow_answer = slow.recv(4096)
            slow.close()
            self.assertTrue(slow_answer.startswith(b"HTTP/1.1 402"), slow_answer[:200])
            statuses = []
            for data in results.values():
                # exactly one response per request
                self.assertEqual(data.count(b"HTTP/1.1 "), 1, data[:300])
                statuses.append(int(data.split()[1]))
            self.assertEqual(len(statuses), 3)
            self.assertEqual(len(upstream.server.seen), 0)
            return statuses, results
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()

    def test_pool_queue_overflow_answers_once(self):
        statuses, results = self.overflow("thread_pool zk threads=1 max_queue=1;",
                                          "zkcredit_verify_concurrency 8;")
        self.assertTrue(set(statuses) <= {402, 503}, statuses)
        self.assertIn(503, statuses, "the pool's queue never overflowed")
        for data in results.values():
            if data.startswith(b"HTTP/1.1 503"):
                body = json.loads(data.split(b"\r\n\r\n", 1)[1])
                self.assertEqual((body["type"], body["spent"]),
                                 ("urn:zkcredit:problem:overloaded", "no"))

    def test_requests_wait_for_a_slot(self):
        statuses, _ = self.overflow("thread_pool zk threads=1 max_queue=1;",
                                    "zkcredit_verify_concurrency 1;")
        self.assertEqual(statuses, [402, 402, 402])

    def test_waiting_line_overflow(self):
        statuses, _ = self.overflow("thread_pool zk threads=1 max_queue=8;",
                                    "zkcredit_verify_concurrency 1; zkcredit_verify_queue 1;")
        self.assertIn(503, statuses)
        self.assertIn(402, statuses)


class ClientGoneTest(GateCase):
    """A client that leaves before the spend spends nothing; one that leaves
    after it gets all of C_max back, fetchable by nullifier."""

    main_body = "thread_pool zk threads=1;"
    extra_http = "zkcredit_verify_concurrency 1;"
    locations = API.replace("zkcredit on;", "zkcredit on; zkcredit_thread_pool zk;")

    def occupy_thread(self):
        return send_slow_job(self.nginx)

    def wait_slow_job(self, s):
        s.settimeout(120)
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 402"))
        s.close()

    def test_gone_while_waiting_for_a_slot(self):
        cred = CREDS["gone_queued"]
        slow = self.occupy_thread()
        with socket.create_connection(("127.0.0.1", self.nginx.port)) as s:
            s.sendall(("GET /v1/models HTTP/1.1\r\nHost: x\r\nZKCredit-Credential: "
                       + cred["header"] + "\r\n\r\n").encode())
            time.sleep(0.05)
        self.wait_slow_job(slow)
        time.sleep(0.5)
        self.assertEqual(self.record("gone_queued"), {})
        # the ticket was not burned: the same credential is served now
        resp = self.nginx.request("GET", "/v1/models", headers=hdr(cred))
        self.assertEqual(resp.status, 200, resp.body)

    def test_gone_while_the_proof_is_checked(self):
        cred = CREDS["gone_in_thread"]
        slow = self.occupy_thread()
        with socket.create_connection(("127.0.0.1", self.nginx.port)) as s:
            s.sendall((f"POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {len(FILE_BODY)}\r\n"
                       f"ZKCredit-Credential: {cred['header']}\r\n\r\n").encode() + FILE_BODY)
            time.sleep(0.2)
        self.wait_slow_job(slow)
        time.sleep(0.5)
        self.assertEqual(self.record("gone_in_thread"), {})
        self.assertEqual(self.nginx.request("POST", "/v1/upload", FILE_BODY, hdr(cred)).status, 200)

    def test_http2_stream_gone_before_the_spend(self):
        cred = CREDS["gone_h2"]
        slow = self.occupy_thread()
        status, _, _ = self.curl_h2("GET", "/v1/models?h2", hdr(cred), timeout=0.2)
        self.assertEqual(status, 0, "curl should have given up")
        self.wait_slow_job(slow)
        time.sleep(0.5)
        self.assertEqual(self.record("gone_h2"), {})
        status, _, _ = self.curl_h2("GET", "/v1/models?h2", hdr(cred))
        self.assertEqual(status, 200)

    def test_gone_after_the_spend_gets_everything_back(self):
        cred = CREDS["client_gone_upstream"]
        with socket.create_connection(("127.0.0.1", self.nginx.port)) as s:
            s.sendall(("GET /v1/slow HTTP/1.1\r\nHost: x\r\nZKCredit-Credential: "
                       + cred["header"] + "\r\n\r\n").encode())
            harness.eventually(lambda: self.record("client_gone_upstream"), lambda rec: "x" in rec)
        stored = harness.eventually(lambda: self.record("client_gone_upstream"),
                                    lambda rec: "v" in rec)
        self.assertEqual(voucher_amount(stored["v"]), C_MAX)
        lookup = self.nginx.request("GET", "/zkcredit/refunds/" + cred["nullifier_hex"])
        self.assertEqual(lookup.status, 200)
        [check] = check_refunds(MADE["key_packed_hex"], [{"c_new": cred["c_new"],
                                                          "refund_b64": lookup.header("ZKCredit-Refund")}])
        self.assertEqual((check["ok"], check["amount"]), (True, str(C_MAX)))
        # resending it now is a replay that carries the voucher
        resp = self.nginx.request("GET", "/v1/slow", headers=hdr(cred))
        self.assert_problem(resp, 409, "ticket-spent")
        self.assertEqual(resp.header("ZKCredit-Refund"), stored["v"])


class UpstreamTest(GateCase):
    """What the upstream does cannot cost the user or forge the gateway."""

    locations = API + f"""
        location /v1/down/ {{
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://127.0.0.1:{free_port_without_listener()};
        }}
"""

    def test_nginx_error_without_an_upstream_answer_charges_nothing(self):
        resp = self.nginx.request("GET", "/v1/down/x", headers=hdr(CREDS["upstream_down"]))
        self.assertEqual(resp.status, 502)
        self.assert_served_once("upstream_down", resp, charged=0)

    def test_upstream_refund_header_is_replaced(self):
        resp = self.nginx.request("GET", "/v1/forge", headers=hdr(CREDS["forged_refund"]))
        self.assertEqual(resp.status, 200)
        self.assert_served_once("forged_refund", resp)

    def test_every_policy_header_is_hidden(self):
        resp = self.nginx.request("GET", "/v1/policy-twice", headers=hdr(CREDS["policy_twice"]))
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header("ZKCredit-Policy"))
        self.assert_served_once("policy_twice", resp, charged=C_MAX)

    def test_whitespace_around_the_credential_is_optional(self):
        cred = CREDS["tab_around"]
        raw = self.nginx.raw(("GET /v1/models?tab HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                              "ZKCredit-Credential: \t" + cred["header"] + "\t \r\n\r\n").encode())
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:300])

    def test_stale_root_after_the_spend_answers_spent_not_invalid(self):
        cred = CREDS["stale_root"]
        self.assertEqual(self.nginx.request("GET", "/v1/models?stale", headers=hdr(cred)).status, 200)
        try:
            publish_root(self.redis, MADE["root_hex"], stopped_at=str(int(time.time()) - 3600))
            resp = self.nginx.request("GET", "/v1/models?stale", headers=hdr(cred))
            problem = self.assert_problem(resp, 409, "ticket-spent")
            self.assertEqual(problem["spent"], "yes")
            self.assertIsNotNone(resp.header("ZKCredit-Refund"))
        finally:
            publish_root(self.redis, MADE["root_hex"])


class StaleHolderTest(GateCase):
    """A spend whose request never answered (its worker died): after the
    settle timeout, the resent credential gets the whole C_max back."""

    server_extra = "zkcredit_settle_timeout 2s;"

    def test_resend_after_the_settle_timeout_is_refunded_in_full(self):
        cred = CREDS["stale_holder"]
        key = "test:n:" + cred["nullifier_hex"]
        # what a worker that crashed after its spend leaves behind
        self.redis.command("HSET", key, "x", cred["x_hex"], "y", cred["y_hex"],
                           "a", "0" * 32, "t", str(int(time.time())))
        resp = self.nginx.request("GET", "/v1/models?stale-holder", headers=hdr(cred))
        self.assert_problem(resp, 409, "ticket-spent")
        self.assertIsNone(resp.header("ZKCredit-Refund"), "the holder may still answer")
        self.redis.command("HSET", key, "t", str(int(time.time()) - 10))
        resp = self.nginx.request("GET", "/v1/models?stale-holder", headers=hdr(cred))
        self.assert_problem(resp, 409, "ticket-spent")
        voucher = resp.header("ZKCredit-Refund")
        [check] = check_refunds(MADE["key_packed_hex"], [{"c_new": cred["c_new"], "refund_b64": voucher}])
        self.assertEqual((check["ok"], check["amount"]), (True, str(C_MAX)))
        self.assertEqual(self.record("stale_holder")["v"], voucher)
        # a stream still answering is not stale, however long it lasts
        self.redis.command("HDEL", key, "v")
        self.redis.command("HSET", key, "s", "1")
        resp = self.nginx.request("GET", "/v1/models?stale-holder", headers=hdr(cred))
        self.assertIsNone(resp.header("ZKCredit-Refund"))


class Http2Test(GateCase):
    """Bodies over HTTP/2: with a length, streamed without one, and large
    enough to be buffered to a file; the binding is the same."""

    def test_body_with_length(self):
        status, headers, body = self.curl_h2("POST", "/v1/chat/completions",
                                             hdr(CREDS["h2_length"]), CHAT)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["body_bytes"], len(CHAT))
        self.assert_h2_voucher("h2_length", headers)

    def test_streamed_body_without_length(self):
        status, headers, body = self.curl_h2("PUT", "/v1/stream", hdr(CREDS["h2_stream"]), CHAT,
                                             stream_body=True)
        self.assertEqual(status, 200, body)
        self.assert_h2_voucher("h2_stream", headers)

    def test_body_buffered_to_a_file(self):
        status, headers, body = self.curl_h2("PUT", "/v1/file", hdr(CREDS["h2_file"]), FILE_BODY)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["body_bytes"], len(FILE_BODY))
        self.assert_h2_voucher("h2_file", headers)

    def assert_h2_voucher(self, name, headers):
        vouchers = [v for k, v in headers if k.lower() == "zkcredit-refund"]
        self.assertEqual(len(vouchers), 1)
        [check] = check_refunds(MADE["key_packed_hex"], [{"c_new": CREDS[name]["c_new"],
                                                          "refund_b64": vouchers[0]}])
        self.assertEqual((check["ok"], check["amount"]), (True, str(C_MAX - 250)))


class LateStoreTest(unittest.TestCase):
    """A store that runs the spend and answers too late: the answer says the
    outcome is unknown, never "nothing was spent"; the identical resend ends
    with the ticket refunded in full; and one slow reply does not fail the
    commands queued behind it."""

    def setUp(self):
        self.redis = harness.Redis().start()
        self.relay = LateRedis(self.redis.port).start()
        self.upstream = Upstream().start()
        self.nginx = start_gateway(self.relay.port, self.upstream.port, redis_timeout="2s").start()
        publish_root(self.redis, MADE["root_hex"])
        # the connection is opened (and the first reply passes) before holding
        self.nginx.request("GET", "/zkcredit/refunds/" + "0" * 64)

    def tearDown(self):
        try:
            self.nginx.stop()
        finally:
            self.relay.stop()
            self.redis.stop()
            self.upstream.stop()

    def record(self, name):
        flat = self.redis.command("HGETALL", "test:n:" + CREDS[name]["nullifier_hex"])
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    def assert_problem_type(self, resp, status, kind):
        self.assertEqual(resp.status, status, resp.body[:300])
        self.assertEqual(resp.header("Content-Type"), "application/problem+json")
        self.assertEqual(json.loads(resp.body)["type"], "urn:zkcredit:problem:" + kind)

    def test_late_reply_is_unknown_and_the_resend_is_refunded(self):
        cred = CREDS["late_reply"]
        self.relay.hold(4)
        resp = self.nginx.request("GET", "/v1/models?late", headers=hdr(cred))
        self.assertEqual(resp.status, 503, resp.body)
        problem = json.loads(resp.body)
        self.assertEqual((problem["type"], problem["spent"]),
                         ("urn:zkcredit:problem:outcome-unknown", "unknown"))
        self.assertEqual(resp.header("Retry-After"), "1")
        # it was spent, and its refund is queued behind the spend
        stored = harness.eventually(lambda: self.record("late_reply"), lambda rec: "v" in rec)
        self.assertEqual(voucher_amount(stored["v"]), C_MAX)
        again = self.nginx.request("GET", "/v1/models?late", headers=hdr(cred))
        self.assertEqual(again.status, 409, again.body)
        self.assertEqual(again.header("ZKCredit-Refund"), stored["v"])
        self.assertEqual(len(self.upstream.server.seen), 0, "served without a known spend")
        log = self.nginx.read_error_log()
        store_lines = [line for line in log.splitlines() if "zkcredit: redis" in line]
        self.assertTrue(store_lines)
        for line in store_lines:
            self.assertNotIn("client:", line, "a store failure logged the client's address")

    def test_client_gone_during_the_spend_gets_everything_back(self):
        cred = CREDS["gone_during_spend"]
        self.relay.hold(1.5)
        with socket.create_connection(("127.0.0.1", self.nginx.port)) as s:
            s.sendall(("GET /v1/models?spend HTTP/1.1\r\nHost: x\r\nZKCredit-Credential: "
                       + cred["header"] + "\r\n\r\n").encode())
            harness.eventually(lambda: self.record("gone_during_spend"), lambda rec: "x" in rec)
        stored = harness.eventually(lambda: self.record("gone_during_spend"), lambda rec: "v" in rec)
        self.assertEqual(voucher_amount(stored["v"]), C_MAX)
        self.assertEqual(len(self.upstream.server.seen), 0)

    def test_one_slow_reply_does_not_fail_the_next_command(self):
        first, second = CREDS["delayed_first"], CREDS["on_time_second"]
        # the first reply comes at 3 s, after the first's 2 s timeout and
        # before the second's (sent at 1.5 s, before the store stalled)
        self.relay.hold(3)
        results = {}

        def send(name, path, cred):
            results[name] = self.nginx.request("GET", path, headers=hdr(cred))

        t1 = threading.Thread(target=send, args=("first", "/v1/models?first", first))
        t1.start()
        time.sleep(1.5)
        t2 = threading.Thread(target=send, args=("second", "/v1/models?second", second))
        t2.start()
        t1.join()
        t2.join()
        self.assertEqual(results["first"].status, 503)
        self.assertEqual(results["second"].status, 200, results["second"].body)

    def test_unsolicited_reply_resets_without_crashing(self):
        fake = FakeRedis("unsolicited").start()
        nginx = start_gateway(fake.port, self.upstream.port, redis_timeout="500ms").start()
        try:
            resp = nginx.request("GET", "/zkcredit/refunds/" + "0" * 64)
            self.assert_problem_type(resp, 404, "voucher-not-found")
            log = harness.eventually(nginx.read_error_log,
                                     lambda text: "sent a reply nobody asked for" in text)
            self.assertIn("sent a reply nobody asked for", log)
        finally:
            nginx.stop()
            fake.stop()


class RedisSessionTest(unittest.TestCase):
    """AUTH with an ACL user and a database number, from an owner-only file."""

    def test_auth_user_and_database(self):
        redis = harness.Redis()
        redis.extra_args = ["--user", "gateway", "on", f">{REDIS_PASSWORD}", "~*", "+@all",
                            "--user", "default", "off"]
        redis.start()
        upstream = Upstream().start()
        nginx = start_gateway(redis.port, upstream.port, extra_http=(
            "zkcredit_redis_auth %%PREFIX%%/redis.auth; zkcredit_redis_database 3;"))
        auth = os.path.join(nginx.prefix, "redis.auth")
        with open(auth, "w") as f:
            f.write(f"gateway {REDIS_PASSWORD}\n")
        os.chmod(auth, 0o600)
        nginx.start()
        try:
            admin = [("AUTH", "gateway", REDIS_PASSWORD), ("SELECT", "3")]
            redis.command_as(admin, "ZADD", "test:roots", "inf", MADE["root_hex"])
            cred = CREDS["redis_auth"]
            resp = nginx.request("GET", "/v1/models?auth", headers=hdr(cred))
            self.assertEqual(resp.status, 200, resp.body)
            stored = redis.command_as(admin, "HGET", "test:n:" + cred["nullifier_hex"], "x")
            self.assertEqual(stored.decode(), cred["x_hex"])
            self.assertNotIn(REDIS_PASSWORD, nginx.read_error_log())
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()

    def test_wrong_password_fails_closed_and_says_why(self):
        redis = harness.Redis()
        redis.extra_args = ["--requirepass", REDIS_PASSWORD]
        redis.start()
        upstream = Upstream().start()
        nginx = start_gateway(redis.port, upstream.port,
                              extra_http="zkcredit_redis_auth %%PREFIX%%/redis.auth;")
        auth = os.path.join(nginx.prefix, "redis.auth")
        with open(auth, "w") as f:
            f.write("not-the-password\n")
        os.chmod(auth, 0o600)
        nginx.start()
        try:
            resp = nginx.request("GET", "/zkcredit/refunds/" + "0" * 64)
            self.assertEqual(resp.status, 503)
            log = harness.eventually(nginx.read_error_log, lambda text: "refused the authentication" in text)
            self.assertIn("refused the authentication", log)
            self.assertNotIn("not-the-password", log)
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()


class DeploymentConfigTest(unittest.TestCase):
    """nginx -t keeps one scope one deployment, inherits keys by value, and
    points merge-time errors at the directive."""

    def check(self, locations, server_extra="", extra_files=()):
        """nginx -t: (exit code, output, the configuration lines the output
        points at)."""
        nginx = harness.Nginx(gated_server(6379, 8000, locations, server_extra=server_extra))
        write_signing_key(nginx.prefix)
        write_signing_key(nginx.prefix, OTHER_SIGNING_KEY_HEX, name="other.key")
        for make in extra_files:
            make(nginx.prefix)
        try:
            rc, out = nginx.check_config()
            return rc, out, open_conf_lines(out)
        finally:
            nginx.discard()

    def test_one_scope_two_prices_is_refused(self):
        rc, out, _ = self.check("""
        location /a/ { zkcredit on; proxy_pass http://api; }
        location /b/ { zkcredit on; zkcredit_c_max 1; proxy_pass http://api; }
""")
        self.assertNotEqual(rc, 0)
        self.assertIn('scope "77" is used with another "zkcredit_c_max"', out)

    def test_one_scope_two_signing_keys_is_refused(self):
        rc, out, _ = self.check("""
        location /a/ { zkcredit on; proxy_pass http://api; }
        location /b/ { zkcredit on; zkcredit_signing_key %%PREFIX%%/other.key; proxy_pass http://api; }
""")
        self.assertNotEqual(rc, 0)
        self.assertIn('another "zkcredit_signing_key"', out)

    def test_the_deposit_contract_is_one_per_deployment_and_well_formed(self):
        rc, out, _ = self.check(f"""
        location /a/ {{ zkcredit on; zkcredit_deposit_contract {DEPOSIT_CONTRACT}; proxy_pass http://api; }}
        location /b/ {{ zkcredit on; proxy_pass http://api; }}
""")
        self.assertNotEqual(rc, 0)
        self.assertIn('another "zkcredit_deposit_contract"', out)
        for bad in ("eip155:31337:0x1234", "eip155:0:" + DEPOSIT_CONTRACT[-42:],
                    "eip155::" + DEPOSIT_CONTRACT[-42:], "cosmos:1:" + DEPOSIT_CONTRACT[-42:],
                    DEPOSIT_CONTRACT + "0", DEPOSIT_CONTRACT[:-1] + "g"):
            rc, out, _ = self.check(f"""
        zkcredit_deposit_contract {bad};
        location /a/ {{ zkcredit on; proxy_pass http://api; }}
""")
            self.assertNotEqual(rc, 0, bad)
            self.assertIn("invalid deposit contract", out)

    def test_the_same_deployment_in_many_locations_is_fine(self):
        rc, out, _ = self.check("""
        location /a/ { zkcredit on; proxy_pass http://api; }
        location /b/ { zkcredit on; zkcredit_charge 5; proxy_pass http://api; }
""")
        self.assertEqual(rc, 0, out)

    def test_merge_errors_name_the_directive_line(self):
        rc, out, conf_lines = self.check("""
        location /a/ {
            zkcredit_scope 79;
            zkcredit on;
            zkcredit_c_max 2;
            proxy_pass http://api;
        }
        location /b/ {
            zkcredit_scope 79;
            zkcredit on;
            proxy_pass http://api;
        }
""")
        self.assertNotEqual(rc, 0)
        self.assertEqual(len(conf_lines), 2, out)
        self.assertIn("zkcredit on;", conf_lines[0])

    def test_a_fifo_as_key_file_fails_at_once(self):
        def fifo(prefix):
            os.mkfifo(os.path.join(prefix, "fifo.key"))
        started = time.monotonic()
        rc, out, _ = self.check("location /a/ { zkcredit on; zkcredit_signing_key %%PREFIX%%/fifo.key; "
                             "proxy_pass http://api; }", extra_files=[fifo])
        self.assertLess(time.monotonic() - started, 20)
        self.assertNotEqual(rc, 0)
        self.assertIn("is not a regular file", out)


def open_conf_lines(output):
    """The configuration lines that an nginx -t message points at."""
    lines = []
    for path, number in re.findall(r" in (\S+nginx\.conf):(\d+)", output):
        if os.path.exists(path):
            with open(path) as f:
                lines.append(f.read().splitlines()[int(number) - 1])
    return lines


class SiblingKeysTest(GateCase):
    """A retired key accepted for the whole server, and two sibling
    locations with their own deployments: neither accepts the other's key."""

    locations = f"""
        zkcredit_accept_key 6e1c6d023d890e9d5e11b4b923f86b88fde9a14f1f641d6c45975e22dee63a21;
        location /a/ {{
            zkcredit on;
            proxy_pass http://api;
        }}
        location /b/ {{
            zkcredit on;
            zkcredit_scope 78;
            zkcredit_signing_key %%PREFIX%%/other.key;
            zkcredit_deposit_contract {DEPOSIT_CONTRACT};
            proxy_pass http://api;
        }}
"""

    @classmethod
    def prepare(cls, nginx):
        write_signing_key(nginx.prefix, OTHER_SIGNING_KEY_HEX, name="other.key")

    def test_a_siblings_signing_key_is_not_accepted(self):
        resp = self.nginx.request("GET", "/b/models", headers=hdr(CREDS["other_key_sibling"]))
        self.assert_problem(resp, 402, "credential-invalid")
        self.assertEqual(self.record("other_key_sibling"), {})

    def test_discovery_lists_each_deployments_own_keys(self):
        doc = json.loads(self.nginx.request("GET", "/.well-known/zkcredit").body)
        by_scope = {d["scope"]: d for d in doc["deployments"]}
        self.assertEqual(set(by_scope), {"77", "78"})
        own = {scope: d["signing_key"]["key_hash"] for scope, d in by_scope.items()}
        self.assertNotIn(own["77"], by_scope["78"]["accepted_key_hashes"])
        self.assertNotIn(own["78"], by_scope["77"]["accepted_key_hashes"])
        self.assertEqual(len(by_scope["77"]["accepted_key_hashes"]), 2)
        self.assertEqual(len(by_scope["78"]["accepted_key_hashes"]), 2)
        self.assertEqual(by_scope["77"]["c_max"], str(C_MAX))
        self.assertEqual(by_scope["78"]["deposit_contract"], DEPOSIT_CONTRACT)
        self.assertNotIn("deposit_contract", by_scope["77"], "announced only where configured")
        challenge = self.nginx.request("GET", "/a/models").header("WWW-Authenticate")
        self.assertIn('discovery="/.well-known/zkcredit"', challenge)


if __name__ == "__main__":
    unittest.main()
