"""The gateway under valgrind's memcheck: every path a request can take
(served, refunded, replayed, refused, refused by policy with a receipt,
looked up, store down) leaks nothing and touches no memory it should not.
Runs on the plain build only: the sanitizer build has its own
instrumentation."""

import json
import os
import re
import unittest

import harness
from receipt_fixtures import write_receipt_key
from zkcredit_fixtures import Upstream, gateway, make_credentials, publish_root, request_spec

USER = {"k": "55555555555555555", "deposit": "1000000"}


class ValgrindTest(unittest.TestCase):
    def test_request_paths_are_clean_under_memcheck(self):
        made = make_credentials([USER], [request_spec(0, 0, "POST", "/v1/chat", b"{}"),
                                         request_spec(0, 1, "GET", "/v1/models"),
                                         request_spec(0, 2, "POST", "/v1/policy", b"x")])
        redis = harness.Redis().start()
        upstream = Upstream().start()
        log = os.path.join(harness.tempfile.gettempdir(), f"zkc-valgrind-{os.getpid()}.log")
        nginx = gateway(redis.port, upstream.port, redis_timeout="5s", extra_server=(
            "zkcredit_deposit_contract eip155:31337:0x" + "ab" * 20 + "; "
            "zkcredit_receipt_key %%PREFIX%%/receipt.key;"), nginx_options={
            "master_process": False, "start_timeout": 120.0,
            "wrapper": ["valgrind", "--tool=memcheck", "--leak-check=full",
                        "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                        "--trace-children=no", f"--log-file={log}",
                        "--suppressions=" + os.path.join(os.path.dirname(__file__), "valgrind.supp")]})
        write_receipt_key(nginx.prefix)
        try:
            publish_root(redis, made["root_hex"])
            nginx.start()
            first, second, refused = made["credentials"]
            self.assertEqual(nginx.request("POST", "/v1/chat", b"{}", {"ZKCredit-Credential": first["header"]},
                                           timeout=60).status, 200)
            self.assertEqual(nginx.request("POST", "/v1/chat", b"{}", {"ZKCredit-Credential": first["header"]},
                                           timeout=60).status, 409)
            self.assertEqual(nginx.request("GET", "/v1/models", headers={"ZKCredit-Credential": "x"},
                                           timeout=60).status, 402)
            self.assertEqual(nginx.request("GET", "/v1/models", timeout=60).status, 402)
            lookup = nginx.request("GET", "/zkcredit/refunds/" + first["nullifier_hex"], timeout=60)
            self.assertEqual(lookup.status, 200)
            self.assertIn("refund", json.loads(lookup.body))
            policy = nginx.request("POST", "/v1/policy", b"x", {"ZKCredit-Credential": refused["header"]},
                                   timeout=60)
            self.assertIsNotNone(policy.header("ZKCredit-Policy-Receipt"))
            self.assertEqual(nginx.request("GET", "/metrics", timeout=60).status, 200)
            redis.stop()
            self.assertEqual(nginx.request("GET", "/v1/models", headers={"ZKCredit-Credential": second["header"]},
                                           timeout=60).status, 503)
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()
        with open(log) as f:
            report = f.read()
        os.unlink(log)
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", report)
        self.assertIsNotNone(summary, report[-2000:])
        self.assertEqual(summary.group(1), "0", report[-6000:])
        self.assertNotRegex(report, r"definitely lost: [1-9]")


if __name__ == "__main__":
    unittest.main()
