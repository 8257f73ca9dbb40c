"""The example chat API speaks OpenAI's format and nothing else: usage in
every answer, streams exactly as OpenAI sends them, OpenAI's error object
for flagged content, and no header of zkcredit's."""

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

    def call(self, method, path, body=None, raw=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            headers = dict(resp.getheaders())
            for name in headers:
                self.assertFalse(name.lower().startswith(("zkcredit", "x-cost")), name)
            return resp.status, headers, data if raw else json.loads(data)
        finally:
            conn.close()

    def chat(self, content, **extra):
        return self.call("POST", "/v1/chat/completions", json.dumps(
            dict({"model": "zk-echo-1", "messages": [{"role": "user", "content": content}]},
                 **extra)))

    def test_completion_reports_usage(self):
        status, headers, body = self.chat("What is a nullifier?")
        self.assertEqual(status, 200)
        usage = body["usage"]
        self.assertEqual(usage["prompt_tokens"], 5)  # What is a nullifier ?
        answer = body["choices"][0]["message"]["content"]
        self.assertEqual(usage["completion_tokens"], len(chat_upstream.tokens(answer)))
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        self.assertEqual(body["object"], "chat.completion")
        self.assertEqual(body["choices"][0]["message"]["role"], "assistant")
        self.assertEqual(self.chat("What is a nullifier?")[2]["choices"],
                         body["choices"], "the answer is deterministic")

    def test_max_tokens_caps_the_answer(self):
        _, _, long = self.chat("Tell me about Groth16 proofs please")
        _, _, short = self.chat("Tell me about Groth16 proofs please", max_tokens=3)
        self.assertLessEqual(short["usage"]["completion_tokens"], 4)
        self.assertLess(short["usage"]["completion_tokens"], long["usage"]["completion_tokens"])

    def test_content_parts_are_read_like_strings(self):
        parts = [{"type": "text", "text": "What is a nullifier?"}]
        status, _, body = self.chat(parts)
        self.assertEqual(status, 200)
        self.assertEqual(body["usage"], self.chat("What is a nullifier?")[2]["usage"])

    def test_flagged_content_gets_openais_policy_error(self):
        status, _, body = self.chat("something FORBIDDEN here")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "content_policy_violation")
        self.assertEqual(body["error"]["type"], "invalid_request_error")

    def stream(self, content, include_usage):
        extra = {"stream": True}
        if include_usage:
            extra["stream_options"] = {"include_usage": True}
        status, headers, raw = self.call("POST", "/v1/chat/completions", json.dumps(
            dict({"model": "zk-echo-1", "messages": [{"role": "user", "content": content}]},
                 **extra)), raw=True)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/event-stream")
        events = [block[len("data: "):] for block in raw.decode().split("\n\n") if block]
        self.assertEqual(events[-1], "[DONE]")
        return [json.loads(e) for e in events[:-1]]

    def test_stream_in_openais_format_with_the_usage_chunk(self):
        chunks = self.stream("What is a nullifier?", include_usage=True)
        _, _, whole = self.chat("What is a nullifier?")
        self.assertEqual(chunks[0]["choices"][0]["delta"], {"role": "assistant", "content": ""})
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        self.assertEqual(text, whole["choices"][0]["message"]["content"])
        self.assertEqual([c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1], "stop")
        self.assertTrue(all(c["usage"] is None for c in chunks[:-1]))
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertEqual(chunks[-1]["usage"], whole["usage"])

    def test_stream_without_include_usage_has_no_usage(self):
        chunks = self.stream("What is a nullifier?", include_usage=False)
        self.assertTrue(all("usage" not in c for c in chunks))

    def test_malformed_requests_and_unknown_routes_are_errors(self):
        for method, path, body in (("POST", "/v1/chat/completions", "{not json"),
                                   ("POST", "/v1/chat/completions", '{"messages": []}'),
                                   ("POST", "/v1/chat/completions",
                                    '{"model": "gpt-none", "messages": [{"content": "x"}]}'),
                                   ("POST", "/v1/chat/completions",
                                    '{"messages": [{"content": "x"}], "max_tokens": 0}'),
                                   ("POST", "/v1/embeddings", "{}"),
                                   ("GET", "/v2/models", None)):
            status, _, answer = self.call(method, path, body)
            self.assertIn(status, (400, 404), (method, path, body))
            self.assertIn("error", answer)

    def test_models_list(self):
        status, _, body = self.call("GET", "/v1/models")
        self.assertEqual(status, 200)
        self.assertEqual([m["id"] for m in body["data"]], list(chat_upstream.MODELS))


if __name__ == "__main__":
    unittest.main()
