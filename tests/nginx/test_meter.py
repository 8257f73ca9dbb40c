"""Metering unmodified upstreams: an OpenAI-compatible chat API answering in
JSON and in SSE, and a JSON-RPC node. Every charge is checked against the
price computed here from what the upstream reported; every voucher is
checked with circomlibjs. Real nginx, real module, real Redis."""

import http.client
import json
import socket
import unittest

import harness
from openai_upstream import USAGE, OpenAIUpstream
from zkcredit_fixtures import (C_MAX, check_refunds, deployment_directives, make_credentials,
                               publish_root, request_spec, voucher_amount, write_signing_key)

ERIN = {"k": "555555555555555555", "deposit": "1000000"}

# credit units per million tokens: prompt, completion, cached, reasoning
PRICES = {
    "demo": (200_000, 800_000, 50_000, 800_000),
    "premium": (400_000, 1_600_000, 400_000, 1_600_000),
    "*": (100_000, 100_000, 100_000, 100_000),
}
RPC_PRICES = {"eth_call": 5, "eth_getLogs": 50, "*": 2}


def expected_charge(usage, model, prices=PRICES):
    """The price of a usage, computed independently of the gateway."""
    p, c, cached, reasoning = prices.get(model, prices.get("*"))
    cached_tokens = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
    reasoning_tokens = usage.get("completion_tokens_details", {}).get("reasoning_tokens", 0)
    cost = ((usage["prompt_tokens"] - cached_tokens) * p + cached_tokens * cached
            + (usage["completion_tokens"] - reasoning_tokens) * c + reasoning_tokens * reasoning)
    return min(-(-cost // 1_000_000), C_MAX)


def chat_body(model, stream=False, include_usage=True):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


CHAT = "/v1/chat/completions"
REQUESTS = {
    "json_demo": (CHAT, chat_body("demo")),
    "json_premium": (CHAT, chat_body("premium")),
    "json_other_model": (CHAT, chat_body("other")),
    "json_no_usage": (CHAT, chat_body("no-usage")),
    "json_policy": (CHAT, chat_body("policy")),
    "json_huge": (CHAT, chat_body("huge")),
    "json_negative": (CHAT, chat_body("negative")),
    "json_fraction": (CHAT, chat_body("fraction")),
    "json_lots": (CHAT, chat_body("lots")),
    "json_duplicate": (CHAT, chat_body("duplicate")),
    "json_deep": (CHAT, chat_body("deep")),
    "json_big": (CHAT, chat_body("big")),
    "json_gzip": (CHAT, chat_body("gzip")),
    "json_strict_unknown": ("/strict/chat", chat_body("other")),
    "sse_demo": (CHAT, chat_body("demo", stream=True)),
    "sse_split": (CHAT, chat_body("split", stream=True)),
    "sse_one_write": (CHAT, chat_body("one-write", stream=True)),
    "sse_long": (CHAT, chat_body("long", stream=True)),
    "sse_no_usage": (CHAT, chat_body("demo", stream=True, include_usage=False)),
    "sse_no_done": (CHAT, chat_body("no-done", stream=True)),
    "sse_forge": (CHAT, chat_body("forge", stream=True)),
    "sse_cut": (CHAT, chat_body("cut", stream=True)),
    "sse_abandoned": (CHAT, chat_body("slow", stream=True)),
    "rpc_single": ("/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                                       "params": []}).encode()),
    "rpc_batch": ("/rpc", json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_getLogs", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []}]).encode()),
    "rpc_malformed_charged": ("/rpc", b'{"jsonrpc": "2.0", "id": 1, "method": '),
    "rpc_malformed_refused": ("/rpc-strict", b'[]'),
}

GATEWAY = f"""
    zkcredit_redis 127.0.0.1:%%PORT_redis%%;
    zkcredit_redis_timeout 3s;
    zkcredit_redis_prefix test:;
    upstream chat {{ server 127.0.0.1:%%PORT_chat%%; keepalive 8; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        {deployment_directives()}
        zkcredit_meter_buffer 1m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # metering reads plaintext: ask the upstream for it
        proxy_set_header Accept-Encoding "";
        proxy_buffering off;

        location /v1/chat/completions {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price demo 200000 800000 cached=50000 reasoning=800000;
            zkcredit_token_price premium 400000 1600000;
            zkcredit_token_price * 100000 100000;
            proxy_pass http://chat;
        }}
        location /strict/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price demo 200000 800000;
            proxy_pass http://chat/v1/;
        }}
        location /rpc {{
            zkcredit on;
            zkcredit_meter jsonrpc;
            zkcredit_rpc_price eth_call 5;
            zkcredit_rpc_price eth_getLogs 50;
            zkcredit_rpc_price * 2;
            proxy_pass http://chat;
        }}
        location /rpc-strict {{
            zkcredit on;
            zkcredit_meter jsonrpc;
            zkcredit_rpc_malformed refuse;
            zkcredit_rpc_price eth_call 5;
            proxy_pass http://chat/rpc;
        }}
        location /zkcredit/refunds/ {{ zkcredit_refunds; }}
        location = /metrics {{ zkcredit_metrics; }}
    }}
"""


def setUpModule():
    global MADE, CREDS
    names = list(REQUESTS)
    specs = [request_spec(0, i, "POST", REQUESTS[n][0], REQUESTS[n][1]) for i, n in enumerate(names)]
    MADE = make_credentials([ERIN], specs)
    CREDS = dict(zip(names, MADE["credentials"]))


def sse_events(body):
    """(event name, data) for each event of an SSE body, and the gateway's
    voucher comment as ("zkcredit-refund", voucher) where it stands."""
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith(": zkcredit-refund "):
                events.append(("zkcredit-refund", line.split(" ", 2)[2]))
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


class MeterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = OpenAIUpstream().start()
        cls.redis = harness.Redis().start()
        cls.nginx = harness.Nginx(GATEWAY.replace("%%PORT_redis%%", str(cls.redis.port))
                                  .replace("%%PORT_chat%%", str(cls.upstream.port)))
        write_signing_key(cls.nginx.prefix)
        cls.nginx.start()
        publish_root(cls.redis, MADE["root_hex"])

    @classmethod
    def tearDownClass(cls):
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.stop()

    def send(self, name, timeout=30):
        target, body = REQUESTS[name]
        return self.nginx.request("POST", target, body, {
            "ZKCredit-Credential": CREDS[name]["header"], "Content-Type": "application/json"},
            timeout=timeout)

    def stored_voucher(self, name):
        return harness.eventually(
            lambda: self.redis.command("HGET", "test:n:" + CREDS[name]["nullifier_hex"], "v"),
            lambda v: v is not None, timeout=15)

    def assert_voucher(self, name, voucher, charge):
        [check] = check_refunds(MADE["key_packed_hex"], [{"c_new": CREDS[name]["c_new"],
                                                          "refund_b64": voucher}])
        self.assertTrue(check["ok"], "circomlibjs rejects the voucher")
        self.assertEqual(int(check["amount"]), C_MAX - charge)
        stored = self.stored_voucher(name)
        self.assertEqual(stored.decode(), voucher)

    def assert_json_charged(self, name, charge, status=200):
        resp = self.send(name)
        self.assertEqual(resp.status, status, resp.body[:300])
        vouchers = [v for k, v in resp.headers if k.lower() == "zkcredit-refund"]
        self.assertEqual(len(vouchers), 1)
        self.assert_voucher(name, vouchers[0], charge)
        return resp

    def metric(self, line_start):
        text = self.nginx.request("GET", "/metrics").body.decode()
        [line] = [l for l in text.splitlines() if l.startswith(line_start + " ")]
        return int(line.split()[-1])

    # --- JSON answers: held until the usage is read

    def test_json_answer_is_charged_by_its_usage(self):
        resp = self.assert_json_charged("json_demo", expected_charge(USAGE, "demo"))
        self.assertEqual(json.loads(resp.body)["usage"], USAGE, "the body reaches the client intact")
        self.assertEqual(expected_charge(USAGE, "demo"), 450)

    def test_prices_per_model(self):
        self.assert_json_charged("json_premium", expected_charge(USAGE, "premium"))
        self.assert_json_charged("json_other_model", expected_charge(USAGE, "other"))

    def test_a_model_without_a_price_is_charged_c_max(self):
        self.assert_json_charged("json_strict_unknown", C_MAX)

    def test_answers_without_usable_usage_are_charged_c_max(self):
        before = self.metric('zkcredit_meter_fallbacks_total{reason="unparseable"}')
        for name in ("json_no_usage", "json_huge", "json_negative", "json_fraction",
                     "json_duplicate", "json_deep"):
            with self.subTest(name=name):
                self.assert_json_charged(name, C_MAX)
        self.assertGreaterEqual(
            self.metric('zkcredit_meter_fallbacks_total{reason="unparseable"}') - before, 5)

    def test_enormous_usage_is_capped_at_c_max(self):
        self.assert_json_charged("json_lots", C_MAX)

    def test_answer_over_the_buffer_passes_whole_and_is_charged_c_max(self):
        resp = self.assert_json_charged("json_big", C_MAX)
        self.assertEqual(len(json.loads(resp.body)["padding"]), 3 * 1024 * 1024)

    def test_compressed_answer_is_charged_c_max(self):
        self.assert_json_charged("json_gzip", C_MAX)

    def test_policy_error_object_keeps_c_max_and_records_evidence(self):
        resp = self.assert_json_charged("json_policy", C_MAX, status=400)
        self.assertEqual(json.loads(resp.body)["error"]["code"], "content_policy_violation")
        entries = harness.eventually(lambda: self.redis.command("XRANGE", "test:evidence:policy", "-", "+"),
                                     lambda found: any(CREDS["json_policy"]["nullifier_hex"].encode() in e[1]
                                                       for e in found))
        self.assertTrue(any(CREDS["json_policy"]["nullifier_hex"].encode() in e[1] for e in entries))

    # --- streamed answers: passed on as they come, voucher in-band

    def assert_stream_charged(self, name, charge, expect_done=True):
        resp = self.send(name)
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header("ZKCredit-Refund"), "a stream's voucher is in-band")
        events = sse_events(resp.body)
        refunds = [data for event, data in events if event == "zkcredit-refund"]
        self.assertEqual(len(refunds), 1, events[-3:])
        if expect_done:
            self.assertEqual(events[-1], ("message", "[DONE]"))
            self.assertEqual(events[-2][0], "zkcredit-refund", "the voucher comes before [DONE]")
        self.assert_voucher(name, refunds[0], charge)
        return events

    def content_of(self, events):
        text = ""
        for event, data in events:
            if event == "message" and data != "[DONE]":
                for choice in json.loads(data)["choices"]:
                    text += choice["delta"].get("content") or ""
        return text

    def test_stream_is_charged_by_its_usage_chunk(self):
        events = self.assert_stream_charged("sse_demo", expected_charge(USAGE, "demo"))
        self.assertEqual(self.content_of(events), "Hello from the metered model.")

    def test_lines_split_across_many_reads(self):
        events = self.assert_stream_charged("sse_split", expected_charge(USAGE, "split"))
        self.assertEqual(self.content_of(events), "Hello from the metered model.")

    def test_whole_stream_in_one_read(self):
        self.assert_stream_charged("sse_one_write", expected_charge(USAGE, "one-write"))

    def test_a_long_stream(self):
        events = self.assert_stream_charged("sse_long", expected_charge(USAGE, "long"))
        self.assertGreater(len(events), 1200)

    def test_stream_without_usage_is_charged_c_max(self):
        self.assert_stream_charged("sse_no_usage", C_MAX)

    def test_stream_ending_without_done_gets_the_voucher_at_its_end(self):
        events = self.assert_stream_charged("sse_no_done", expected_charge(USAGE, "no-done"),
                                            expect_done=False)
        self.assertEqual(events[-1][0], "zkcredit-refund")

    def test_upstream_comment_imitating_the_voucher_is_removed(self):
        resp_events = self.assert_stream_charged("sse_forge", expected_charge(USAGE, "forge"))
        self.assertNotIn("forged-by-the-upstream", [data for _, data in resp_events])

    def test_stream_cut_by_the_upstream_still_stores_a_voucher(self):
        try:
            self.send("sse_cut", timeout=10)
        except (http.client.HTTPException, OSError):
            pass
        voucher = self.stored_voucher("sse_cut")
        self.assertEqual(voucher_amount(voucher.decode()), 0, "no usage seen: C_max charged")

    def test_stream_abandoned_by_the_client_stores_a_voucher(self):
        name = "sse_abandoned"
        target, body = REQUESTS[name]
        with socket.create_connection(("127.0.0.1", self.nginx.port)) as s:
            s.sendall((f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\nZKCredit-Credential: {CREDS[name]['header']}"
                       "\r\n\r\n").encode() + body)
            self.assertIn(b"text/event-stream", s.recv(4096))
        voucher = self.stored_voucher(name)
        self.assertEqual(voucher_amount(voucher.decode()), 0)

    # --- JSON-RPC: priced by the request's methods

    def test_jsonrpc_single_call(self):
        self.assert_json_charged("rpc_single", RPC_PRICES["eth_call"])

    def test_jsonrpc_batch_is_the_sum(self):
        self.assert_json_charged("rpc_batch", RPC_PRICES["eth_call"] + RPC_PRICES["eth_getLogs"]
                                 + RPC_PRICES["*"])

    def test_malformed_jsonrpc_is_charged_c_max(self):
        self.assert_json_charged("rpc_malformed_charged", C_MAX)

    def test_malformed_jsonrpc_can_be_refused_and_spends_nothing(self):
        resp = self.send("rpc_malformed_refused")
        self.assertEqual(resp.status, 400)
        self.assertEqual(json.loads(resp.body)["type"], "urn:zkcredit:problem:rpc-invalid")
        self.assertIsNone(self.redis.command(
            "HGET", "test:n:" + CREDS["rpc_malformed_refused"]["nullifier_hex"], "x"))


if __name__ == "__main__":
    unittest.main()
