"""Policy receipts (docs/protocol.md §9.1): a request refused by policy
carries the gateway's signed promise to burn its C_max, in a header and in
the audit stream. Real nginx, real module, real Redis; the signature is
checked by Foundry's cast, the digest computed here from the specification."""

import hashlib
import json
import time
import unittest

import harness
from openai_upstream import OpenAIUpstream
from receipt_fixtures import (OTHER_RECEIPT_KEY, RECEIPT_HEADER, RECEIPT_KEY, RECEIPT_SIGNER,
                              cast_verifies, parse_receipt, receipt_digest, write_receipt_key)
from zkcredit_fixtures import (C_MAX, Upstream, deployment_directives, make_credentials,
                               publish_root, request_spec, voucher_amount, write_signing_key)

FRANK = {"k": "666666666666666666", "deposit": "1000000"}

CHAIN_ID = 31337
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DEPOSIT_CONTRACT = f"eip155:{CHAIN_ID}:{CONTRACT}"
HEADER_REASON = b"violation: test content"
STREAM_REASON = b"violation: streamed content"
JSON_REASON = b"Your request was rejected by the safety system."

REQUESTS = {
    "header_policy": ("POST", "/v1/policy", b"forbidden"),
    "stream_policy": ("GET", "/stream/policy-stream", b""),
    "json_policy": ("POST", "/chat/chat/completions",
                    json.dumps({"model": "policy", "messages": [{"role": "user", "content": "hi"}]})
                    .encode()),
    "served": ("GET", "/v1/models", b""),
    "upstream_copy": ("GET", "/v1/forge", b""),
}


def receipt_directives(key_path="%%PREFIX%%/receipt.key", contract=DEPOSIT_CONTRACT):
    directives = f"zkcredit_receipt_key {key_path};"
    if contract:
        directives += f" zkcredit_deposit_contract {contract};"
    return directives


def gateway_body(redis_port, upstream_port, chat_port, receipts=None):
    return f"""
    zkcredit_redis 127.0.0.1:{redis_port};
    zkcredit_redis_timeout 3s;
    zkcredit_redis_prefix test:;
    upstream api {{ server 127.0.0.1:{upstream_port}; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        {deployment_directives()}
        {receipt_directives() if receipts is None else receipts}
        proxy_http_version 1.1;
        proxy_set_header Accept-Encoding "";
        proxy_buffering off;

        location /v1/ {{
            zkcredit on;
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
        }}
        location /stream/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price * 1 1;
            proxy_pass http://api/v1/;
        }}
        location /chat/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price * 1 1;
            proxy_pass http://127.0.0.1:{chat_port}/v1/;
        }}
        location = /.well-known/zkcredit {{ zkcredit_discovery; }}
        location = /metrics {{ zkcredit_metrics; }}
    }}
"""


def setUpModule():
    global MADE, CREDS
    names = list(REQUESTS)
    MADE = make_credentials([FRANK], [request_spec(0, i, *REQUESTS[n]) for i, n in enumerate(names)])
    CREDS = dict(zip(names, MADE["credentials"]))


class ReceiptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.Redis().start()
        cls.upstream = Upstream().start()
        cls.chat = OpenAIUpstream().start()
        cls.nginx = harness.Nginx(gateway_body(cls.redis.port, cls.upstream.port, cls.chat.port))
        write_signing_key(cls.nginx.prefix)
        write_receipt_key(cls.nginx.prefix)
        cls.nginx.start()
        publish_root(cls.redis, MADE["root_hex"])

    @classmethod
    def tearDownClass(cls):
        log = cls.nginx.read_error_log()
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.stop()
            cls.chat.stop()
        assert RECEIPT_KEY not in log, "the receipt key reached the log"

    def send(self, name):
        method, target, body = REQUESTS[name]
        return self.nginx.request(method, target, body or None,
                                  {"ZKCredit-Credential": CREDS[name]["header"]})

    def policy_entries(self):
        entries = self.redis.command("XRANGE", "test:evidence:policy", "-", "+")
        return [{f[i].decode(): f[i + 1].decode() for i in range(0, len(f), 2)} for _, f in entries]

    def entry_of(self, name):
        nullifier = CREDS[name]["nullifier_hex"]
        entries = harness.eventually(
            self.policy_entries, lambda found: any(e["nullifier"] == nullifier for e in found))
        [entry] = [e for e in entries if e["nullifier"] == nullifier]
        return entry

    def assert_receipt(self, name, resp, reason, before):
        """The answer's receipt: well formed, for this ticket and C_max, its
        evidence the reason's SHA-256, issued now, signed by the announced
        key for this deployment; and the same in the audit stream."""
        after = int(time.time())
        text = resp.header(RECEIPT_HEADER)
        self.assertIsInstance(text, str, "one receipt header expected")
        fields = parse_receipt(text)
        self.assertEqual(fields["nullifier"].hex(), CREDS[name]["nullifier_hex"])
        self.assertEqual(fields["credits"], C_MAX)
        self.assertEqual(fields["evidence"], hashlib.sha256(reason).digest())
        # to the minute: the receipt becomes public when it is burned
        self.assertEqual(fields["issued_at"] % 60, 0)
        self.assertTrue(before // 60 * 60 <= fields["issued_at"] <= after, fields["issued_at"])
        self.assertIn(fields["signature"][64], (27, 28))
        digest = receipt_digest(fields, CHAIN_ID, CONTRACT)
        self.assertTrue(cast_verifies(digest, fields["signature"], RECEIPT_SIGNER))
        # bound to the deployment: not valid for another chain
        self.assertFalse(cast_verifies(receipt_digest(fields, 1, CONTRACT), fields["signature"],
                                       RECEIPT_SIGNER))
        self.assertEqual(voucher_amount(resp.header("ZKCredit-Refund")), 0)

        entry = self.entry_of(name)
        self.assertEqual(entry["receipt"], text)
        self.assertEqual(entry["reason_sha256"], fields["evidence"].hex())

    def test_discovery_announces_the_receipt_signer(self):
        doc = json.loads(self.nginx.request("GET", "/.well-known/zkcredit").body)
        [deployment] = doc["deployments"]
        self.assertEqual(deployment["receipt_signer"], RECEIPT_SIGNER)
        self.assertEqual(deployment["deposit_contract"], DEPOSIT_CONTRACT)

    def test_refusal_in_the_header_carries_a_receipt(self):
        before = int(time.time())
        resp = self.send("header_policy")
        self.assertEqual(resp.status, 200)
        self.assert_receipt("header_policy", resp, HEADER_REASON, before)

    def test_refused_stream_carries_its_receipt_in_the_header(self):
        before = int(time.time())
        resp = self.send("stream_policy")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("Content-Type"), "text/event-stream")
        self.assert_receipt("stream_policy", resp, STREAM_REASON, before)
        self.assertNotIn(b"zkcredit-", resp.body, "the header says it all: nothing in-band")

    def test_held_json_refusal_carries_a_receipt(self):
        before = int(time.time())
        resp = self.send("json_policy")
        self.assertEqual(resp.status, 400)
        self.assertEqual(json.loads(resp.body)["error"]["code"], "content_policy_violation")
        self.assert_receipt("json_policy", resp, JSON_REASON, before)

    def test_served_and_unspent_requests_carry_none(self):
        served = self.send("served")
        self.assertEqual(served.status, 200)
        self.assertIsNotNone(served.header("ZKCredit-Refund"))
        self.assertIsNone(served.header(RECEIPT_HEADER))
        # refused before the spend: nothing kept, nothing to burn
        missing = self.nginx.request("GET", "/v1/models")
        self.assertEqual(missing.status, 402)
        self.assertIsNone(missing.header(RECEIPT_HEADER))
        invalid = self.nginx.request("GET", "/v1/models", headers={"ZKCredit-Credential": "A" * 407})
        self.assertEqual(invalid.status, 402)
        self.assertIsNone(invalid.header(RECEIPT_HEADER))
        self.assertFalse(any(e["nullifier"] == CREDS["served"]["nullifier_hex"]
                             for e in self.policy_entries()))

    def test_an_upstreams_receipt_never_passes(self):
        resp = self.send("upstream_copy")
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header(RECEIPT_HEADER))


class ReceiptConfigTest(unittest.TestCase):
    def check(self, receipts, key=RECEIPT_KEY, mode=0o600, extra_location=""):
        body = gateway_body(1, 1, 1, receipts=receipts)
        if extra_location:
            body = body.replace("        location = /metrics", extra_location + "\n        location = /metrics")
        nginx = harness.Nginx(body)
        try:
            write_signing_key(nginx.prefix)
            write_receipt_key(nginx.prefix, key, mode)
            write_receipt_key(nginx.prefix, OTHER_RECEIPT_KEY, name="other.key")
            return nginx.check_config()
        finally:
            nginx.discard()

    def assert_refused(self, result, *phrases):
        rc, output = result
        self.assertNotEqual(rc, 0, output)
        for phrase in phrases:
            self.assertIn(phrase, output)
        self.assertNotIn(RECEIPT_KEY, output)
        self.assertNotIn(OTHER_RECEIPT_KEY, output)

    def test_a_receipt_key_with_its_contract_is_accepted(self):
        rc, output = self.check(receipt_directives())
        self.assertEqual(rc, 0, output)

    def test_a_receipt_key_needs_a_deposit_contract(self):
        self.assert_refused(self.check(receipt_directives(contract=None)),
                            '"zkcredit_receipt_key" needs "zkcredit_deposit_contract"')

    def test_the_key_file_must_be_private_and_a_key(self):
        self.assert_refused(self.check(receipt_directives(), mode=0o644), "receipt key", "chmod 600")
        self.assert_refused(self.check(receipt_directives(), key=RECEIPT_KEY[:-2]), "receipt key",
                            "not 64 hex digits")
        self.assert_refused(self.check(receipt_directives("%%PREFIX%%/absent.key")), "receipt key",
                            "absent.key")
        self.assert_refused(self.check(receipt_directives() + " zkcredit_receipt_key %%PREFIX%%/other.key;"),
                            "is duplicate")

    def test_one_scope_has_one_receipt_key(self):
        other = """        location /other/ {
            zkcredit on;
            zkcredit_receipt_key %%PREFIX%%/other.key;
            proxy_pass http://api;
        }"""
        self.assert_refused(self.check(receipt_directives(), extra_location=other),
                            '"zkcredit_receipt_key"', "one scope is one deployment")


if __name__ == "__main__":
    unittest.main()
