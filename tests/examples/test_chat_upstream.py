"""The example chat API's contract with the gateway: the price in X-Cost,
the policy header on flagged content, nothing charged for what it refuses."""

import http.client
import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "examples"))

import chat_upstream  # noqa: E402


class ChatUpstreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = chat_upstream.make_server(flagged=("forbidden",))
        cls.port = cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), json.loads(resp.read())
        finally:
            conn.close()

    def chat(self, content, **extra):
        return self.call("POST", "/v1/chat/completions", json.dumps(
            dict({"model": "zk-echo-1", "messages": [{"role": "user", "content": content}]},
                 **extra)))

    def test_completion_reports_usage_and_the_matching_price(self):
        status, headers, body = self.chat("What is a nullifier?")
        self.assertEqual(status, 200)
        usage = body["usage"]
        self.assertEqual(usage["prompt_tokens"], 5)  # What is a nullifier ?
        self.assertEqual(int(headers["X-Cost"]),
                         chat_upstream.PROMPT_PRICE * usage["prompt_tokens"]
                         + chat_upstream.COMPLETION_PRICE * usage["completion_tokens"])
        self.assertEqual(body["object"], "chat.completion")
        self.assertEqual(body["choices"][0]["message"]["role"], "assistant")
        self.assertEqual(self.chat("What is a nullifier?")[2]["choices"],
                         body["choices"], "the answer is deterministic")

    def test_max_tokens_caps_the_answer_and_its_price(self):
        _, long_headers, _ = self.chat("Tell me about Groth16 proofs please")
        _, short_headers, short = self.chat("Tell me about Groth16 proofs please", max_tokens=3)
        self.assertLessEqual(short["usage"]["completion_tokens"], 4)
        self.assertLess(int(short_headers["X-Cost"]), int(long_headers["X-Cost"]))

    def test_content_parts_are_read_like_strings(self):
        parts = [{"type": "text", "text": "What is a nullifier?"}]
        status, headers, _ = self.chat(parts)
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-Cost"], self.chat("What is a nullifier?")[1]["X-Cost"])

    def test_flagged_content_gets_the_policy_header_and_no_price(self):
        status, headers, body = self.chat("something FORBIDDEN here")
        self.assertEqual(status, 400)
        self.assertIn("ZKCredit-Policy", headers)
        self.assertEqual(headers["X-Cost"], "0")
        self.assertEqual(body["error"]["code"], "content_policy_violation")

    def test_malformed_requests_and_unknown_routes_cost_nothing(self):
        for method, path, body in (("POST", "/v1/chat/completions", "{not json"),
                                   ("POST", "/v1/chat/completions", '{"messages": []}'),
                                   ("POST", "/v1/chat/completions",
                                    '{"model": "gpt-none", "messages": [{"content": "x"}]}'),
                                   ("POST", "/v1/chat/completions",
                                    '{"messages": [{"content": "x"}], "max_tokens": 0}'),
                                   ("POST", "/v1/embeddings", "{}"),
                                   ("GET", "/v2/models", None)):
            status, headers, answer = self.call(method, path, body)
            self.assertIn(status, (400, 404), (method, path, body))
            self.assertEqual(headers["X-Cost"], "0")
            self.assertIn("error", answer)

    def test_models_list(self):
        status, headers, body = self.call("GET", "/v1/models")
        self.assertEqual(status, 200)
        self.assertEqual([m["id"] for m in body["data"]], list(chat_upstream.MODELS))
        self.assertEqual(headers["X-Cost"], "1")


if __name__ == "__main__":
    unittest.main()
