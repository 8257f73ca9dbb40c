"""The 402 challenge: what a client without a valid credential gets."""

import json
import os
import subprocess
import tempfile
import unittest

import harness
from zkcredit_fixtures import CIRCUIT_VK, write_signing_key

# Missing credentials are refused before Redis is asked: the port is closed.
GATED = """
    zkcredit_redis 127.0.0.1:1;
    server {
        listen 127.0.0.1:%%PORT%%;
        zkcredit_scope 7;
        zkcredit_c_max 1000;
        zkcredit_verification_key """ + CIRCUIT_VK + """;
        zkcredit_signing_key %%PREFIX%%/refund.key;

        location /free/ { return 200 "free\\n"; }
        location /static/ { alias %%PREFIX%%/html/; }
        location /paid/ {
            zkcredit on;
            alias %%PREFIX%%/html/;
            location /paid/open/ { zkcredit off; alias %%PREFIX%%/html/; }
        }
        location /renamed/ {
            zkcredit on;
            # another header name is another deployment: its own scope
            zkcredit_scope 8;
            zkcredit_header X-Credit;
            zkcredit_realm "api.example";
            alias %%PREFIX%%/html/;
        }
    }
"""


class ChallengeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nginx = harness.Nginx(GATED)
        write_signing_key(cls.nginx.prefix)
        with open(os.path.join(cls.nginx.prefix, "html", "index.html"), "w") as f:
            f.write("content\n")
        cls.nginx.start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()

    def assert_problem(self, resp, problem_type):
        self.assertEqual(resp.status, 402)
        self.assertEqual(resp.header("Content-Type"), "application/problem+json")
        self.assertEqual(resp.header("Cache-Control"), "no-store")
        self.assertRegex(resp.header("WWW-Authenticate"),
                         '^ZKCredit realm="zkcredit", scope="7", c_max="1000", key="[0-9a-f]{64}"$')
        problem = json.loads(resp.body)
        self.assertEqual(problem["type"], f"urn:zkcredit:problem:{problem_type}")
        self.assertEqual(problem["status"], 402)
        self.assertEqual(problem["title"], "Payment Required")
        self.assertEqual(problem["header"], "ZKCredit-Credential")
        self.assertEqual(problem["scope"], "7")
        # numbers are strings, so that no client loses digits
        self.assertEqual(problem["c_max"], "1000")
        return problem

    def test_missing_credential_gets_challenge_and_problem(self):
        self.assert_problem(self.nginx.request("GET", "/paid/index.html"),
                            "credential-required")

    def test_head_gets_challenge_without_body(self):
        resp = self.nginx.request("HEAD", "/paid/index.html")
        self.assertEqual(resp.status, 402)
        self.assertIsNotNone(resp.header("WWW-Authenticate"))
        self.assertEqual(resp.body, b"")

    def test_unverifiable_credential_fails_closed(self):
        resp = self.nginx.request("GET", "/paid/index.html",
                                  headers={"ZKCredit-Credential": "AAAA"})
        self.assert_problem(resp, "credential-invalid")

    def test_duplicate_credential_headers_are_refused(self):
        raw = self.nginx.raw(
            b"GET /paid/index.html HTTP/1.1\r\nHost: x\r\n"
            b"ZKCredit-Credential: AAAA\r\nzkcredit-credential: BBBB\r\n"
            b"Connection: close\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 402 "), raw[:80])
        self.assertIn(b"credential-invalid", raw)

    def test_request_body_is_discarded_and_connection_reused(self):
        body = b"x" * 300000  # beyond client_body_buffer_size
        request = (b"POST /paid/index.html HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body
        second = b"GET /free/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        raw = self.nginx.raw(request + second)
        self.assertTrue(raw.startswith(b"HTTP/1.1 402 "), raw[:80])
        self.assertIn(b"HTTP/1.1 200 OK", raw)
        self.assertTrue(raw.endswith(b"free\n"))

    def test_ungated_locations_are_untouched(self):
        for path in ("/static/index.html", "/paid/open/index.html"):
            resp = self.nginx.request("GET", path)
            self.assertEqual(resp.status, 200, path)
            self.assertEqual(resp.body, b"content\n")
            self.assertIsNone(resp.header("WWW-Authenticate"))

    def test_header_name_and_realm_are_configurable(self):
        resp = self.nginx.request("GET", "/renamed/index.html")
        self.assertEqual(resp.status, 402)
        self.assertRegex(resp.header("WWW-Authenticate"),
                         '^ZKCredit realm="api.example", scope="8", c_max="1000", key=')
        self.assertEqual(json.loads(resp.body)["header"], "X-Credit")
        resp = self.nginx.request("GET", "/renamed/index.html",
                                  headers={"X-Credit": "AAAA"})
        self.assertIn(b"credential-invalid", resp.body)


class ConfigurationErrorTest(unittest.TestCase):
    def check(self, location_body, expected_message):
        nginx = harness.Nginx("zkcredit_redis 127.0.0.1:1; server { listen 127.0.0.1:%%PORT%%;"
                              " zkcredit_verification_key " + CIRCUIT_VK + ";"
                              " zkcredit_signing_key %%PREFIX%%/refund.key;"
                              " location / { " + location_body + " } }")
        write_signing_key(nginx.prefix)
        try:
            rc, output = nginx.check_config()
        finally:
            nginx.discard()
        self.assertNotEqual(rc, 0, output)
        self.assertIn(expected_message, output)

    def test_bad_values_fail_nginx_t_with_clear_messages(self):
        cases = [
            ("zkcredit maybe;", 'invalid value "maybe"'),
            ("zkcredit on; zkcredit_c_max 10;",
             '"zkcredit_scope" must be set where "zkcredit" is on'),
            ("zkcredit on; zkcredit_scope 5;",
             '"zkcredit_c_max" must be set where "zkcredit" is on'),
            ("zkcredit_scope 012;", 'invalid scope "012"'),
            ("zkcredit_scope -5;", 'invalid scope "-5"'),
            ("zkcredit_scope 1" + "0" * 77 + ";", "invalid scope"),
            ("zkcredit_c_max 0;", 'invalid C_max "0"'),
            ("zkcredit_c_max 18446744073709551616;", 'invalid C_max'),
            ("zkcredit_c_max 5; zkcredit_c_max 6;", '"zkcredit_c_max" directive is duplicate'),
            ("zkcredit_c_max lots;", 'invalid C_max "lots"'),
            ("zkcredit_header 'X Credit';", 'invalid header name "X Credit"'),
            ("zkcredit_realm 'a\"b';", 'invalid realm'),
            ("zkcredit_scope 5; zkcredit_scope 6;", '"zkcredit_scope" directive is duplicate'),
        ]
        for body, message in cases:
            with self.subTest(body=body):
                self.check(body, message)

    def test_valid_configuration_passes(self):
        nginx = harness.Nginx("zkcredit_redis 127.0.0.1:1; server { listen 127.0.0.1:%%PORT%%;"
                              " zkcredit_verification_key " + CIRCUIT_VK + ";"
                              " zkcredit_signing_key %%PREFIX%%/refund.key;"
                              " location / { zkcredit on; zkcredit_scope 5;"
                              " zkcredit_c_max 18446744073709551615; } }")
        write_signing_key(nginx.prefix)
        try:
            rc, output = nginx.check_config()
        finally:
            nginx.discard()
        self.assertEqual(rc, 0, output)


class DebianSnippetTest(unittest.TestCase):
    def test_modules_available_snippet_loads_the_module(self):
        """The conf/ snippet, as Debian would install it, passes nginx -t."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        snippet = os.path.join(root, "conf", "mod-http-zkcredit.conf")
        with tempfile.TemporaryDirectory() as prefix:
            os.symlink(os.path.dirname(harness.MODULE_PATH), os.path.join(prefix, "modules"))
            conf = os.path.join(prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"include {snippet};\nevents {{}}\n"
                        "http { server { listen 127.0.0.1:1; location / {"
                        " zkcredit_metrics; } } }\n")
            done = subprocess.run(
                [harness.NGINX_BINARY, "-p", prefix + "/", "-c", conf, "-t", "-q",
                 "-g", f"error_log {prefix}/error.log; pid {prefix}/nginx.pid;"],
                env=harness.sanitizer_env(), capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)


    def test_example_site_passes_nginx_t(self):
        """conf/zkcredit-site.conf.example, with its paths pointed at a scratch
        folder, is a complete gateway configuration."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "conf", "zkcredit-site.conf.example")) as f:
            site = f.read()
        with tempfile.TemporaryDirectory() as prefix:
            write_signing_key(prefix)
            for old, new in (("/etc/zkcredit/verification_key.json",
                              os.path.join(root, "circuits", "keys", "verification_key.json")),
                             ("/etc/zkcredit/refund.key", os.path.join(prefix, "refund.key")),
                             ("/var/log/nginx/", prefix + "/"),
                             ("root /var/www;", f"root {prefix};"),
                             ("listen 80;", "listen 127.0.0.1:1;")):
                self.assertIn(old, site)
                site = site.replace(old, new)
            with open(os.path.join(prefix, "site.conf"), "w") as f:
                f.write(site)
            conf = os.path.join(prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"load_module {harness.MODULE_PATH};\nevents {{}}\n"
                        f"http {{ include {prefix}/site.conf; }}\n")
            done = subprocess.run(
                [harness.NGINX_BINARY, "-p", prefix + "/", "-c", conf, "-t", "-q",
                 "-g", f"error_log {prefix}/error.log; pid {prefix}/nginx.pid;"],
                env=harness.sanitizer_env(), capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)


class RedisHarnessTest(unittest.TestCase):
    def test_real_redis_server_starts_answers_and_stops(self):
        redis = harness.Redis().start()
        try:
            self.assertEqual(redis.command("PING"), "PONG")
            self.assertEqual(redis.command("SET", "k", "v", "NX"), "OK")
            self.assertIsNone(redis.command("SET", "k", "w", "NX"))
        finally:
            redis.stop()
        self.assertIsNotNone(redis.proc.poll())


if __name__ == "__main__":
    unittest.main()
