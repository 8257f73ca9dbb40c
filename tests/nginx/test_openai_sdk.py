"""The official `openai` npm SDK, a client nobody here wrote, against the
gateway metering the example chat API: it parses every answer as if the
gateway were not there, streamed or not, and never sees the voucher line."""

import json
import os
import subprocess
import threading
import unittest

import harness
from zkcredit_fixtures import (C_MAX, REPO_ROOT, chat_expected, chat_params, check_refunds,
                               make_credentials, metered_chat_gateway, publish_root, request_spec,
                               voucher_amount)

import sys
sys.path.insert(0, os.path.join(REPO_ROOT, "examples"))
import chat_upstream  # noqa: E402

FRANK = {"k": "666666666666666666", "deposit": "1000000"}
QUESTION = "What does the SDK see of the gateway?"


def params(stream):
    return chat_params(QUESTION, stream)


def sdk_body(body):
    """The bytes the SDK sends: JSON.stringify of the parameters."""
    return json.dumps(body, separators=(",", ":")).encode()


class OpenAISdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.made = make_credentials([FRANK], [
            request_spec(0, 0, "POST", "/v1/chat/completions", sdk_body(params(False))),
            request_spec(0, 1, "POST", "/v1/chat/completions", sdk_body(params(True)))])
        cls.upstream = chat_upstream.make_server()
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.redis = harness.Redis().start()
        cls.nginx = metered_chat_gateway(cls.redis.port, cls.upstream.server_address[1],
                                         chat_upstream.PROMPT_PRICE,
                                         chat_upstream.COMPLETION_PRICE)
        cls.nginx.start()
        publish_root(cls.redis, cls.made["root_hex"])
        spec = {"base_url": f"http://127.0.0.1:{cls.nginx.port}/v1", "calls": [
            {"kind": "json", "params": params(False), "credential": cls.made["credentials"][0]["header"]},
            {"kind": "stream", "params": params(True), "credential": cls.made["credentials"][1]["header"]}]}
        done = subprocess.run(["node", os.path.join(REPO_ROOT, "tests", "reference", "openai_sdk.mjs")],
                              input=json.dumps(spec), capture_output=True, text=True, timeout=120,
                              cwd=REPO_ROOT)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        cls.json_result, cls.stream_result = json.loads(done.stdout)["results"]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.nginx.stop()
        finally:
            cls.redis.stop()
            cls.upstream.shutdown()
            cls.upstream.server_close()

    def upstream_answer(self):
        answer, usage, _ = chat_expected(chat_upstream, QUESTION)
        return answer, usage

    def test_json_answer_parses_as_the_upstream_sent_it(self):
        result = self.json_result
        self.assertTrue(result["ok"], result.get("error"))
        answer, usage = self.upstream_answer()
        self.assertEqual(result["completion"]["choices"][0]["message"]["content"], answer)
        self.assertEqual(result["completion"]["usage"], usage)
        cred = self.made["credentials"][0]
        [check] = check_refunds(self.made["key_packed_hex"], [{"c_new": cred["c_new"],
                                                               "refund_b64": result["refund_header"]}])
        self.assertTrue(check["ok"])
        self.assertEqual(int(check["amount"]), C_MAX - usage["prompt_tokens"] * chat_upstream.PROMPT_PRICE
                         - usage["completion_tokens"] * chat_upstream.COMPLETION_PRICE)

    def test_stream_parses_as_the_upstream_sent_it_and_never_shows_the_voucher(self):
        result = self.stream_result
        self.assertTrue(result["ok"], result.get("error"))
        answer, usage = self.upstream_answer()
        chunks = result["chunks"]
        self.assertTrue(all(c["object"] == "chat.completion.chunk" for c in chunks))
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        self.assertEqual(text, answer)
        self.assertEqual(chunks[-1]["usage"], usage)
        # the voucher went by, in the stream, to the store
        cred = self.made["credentials"][1]
        stored = harness.eventually(
            lambda: self.redis.command("HGET", "test:n:" + cred["nullifier_hex"], "v"),
            lambda v: v is not None)
        self.assertEqual(voucher_amount(stored.decode()),
                         C_MAX - usage["prompt_tokens"] * chat_upstream.PROMPT_PRICE
                         - usage["completion_tokens"] * chat_upstream.COMPLETION_PRICE)


if __name__ == "__main__":
    unittest.main()
