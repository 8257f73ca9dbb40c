#!/usr/bin/env python3
"""An OpenAI-compatible chat completions API for the demo and the tests.

No model: the answer is deterministic text built from the last user message,
so that a run can be checked. It knows nothing of zkcredit, as a real
OpenAI-compatible server does not: the gateway meters it from what OpenAI's
format already says (`zkcredit_meter openai;`):

- every JSON answer carries OpenAI's "usage" object (prompt and completion
  tokens; a token is a word or a punctuation mark);
- "stream": true answers in server-sent events exactly as OpenAI does: a
  role chunk, one chunk per token, a chunk with the finish reason, the usage
  chunk when "stream_options": {"include_usage": true} asks for it (with
  "usage": null in every earlier chunk), then "data: [DONE]";
- a request whose messages contain a flagged word gets OpenAI's
  content-policy error object (code "content_policy_violation"), which the
  gateway treats as a policy refusal.

PROMPT_PRICE and COMPLETION_PRICE are what the demo's gateway charges per
token (its zkcredit_token_price, in credits per million tokens, is a million
times these).

    examples/chat_upstream.py [--host 127.0.0.1] [--port 0] [--flag WORD]...

The chosen port is printed on stdout as "listening on HOST:PORT".
"""

import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMPT_PRICE = 1
COMPLETION_PRICE = 2
MODELS = ("zk-echo-1", "zk-echo-1-mini")
DEFAULT_MAX_TOKENS = 64
TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text):
    return TOKEN.findall(text)


def message_text(message):
    """The text of a message: a string, or OpenAI's list of content parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content
                        if isinstance(part, dict) and part.get("type") == "text")
    return None


def completion_text(question_tokens, max_tokens):
    """A deterministic answer: the question's first words, then a fixed tail."""
    words = [t for t in question_tokens if t.isalnum()][:12]
    answer = ("You asked about: " + " ".join(words) + ". This answer comes from a "
              "deterministic example server, so every run of the demo gets the same text.")
    return " ".join(answer.split(" ")[:max_tokens])


class ChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "zk-echo"

    def log_message(self, *args):
        pass  # the gateway logs requests; this server keeps nothing

    def reply(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def error(self, status, message, kind, code=None):
        self.reply(status, {"error": {"message": message, "type": kind, "param": None,
                                      "code": code}})

    def stream(self, completion_id, model, completion, usage, include_usage):
        """The answer as OpenAI streams it, one token per chunk."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(choices, finish=None, delta=None, usage_value=None):
            body = {"id": completion_id, "object": "chat.completion.chunk", "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta or {}, "logprobs": None,
                                 "finish_reason": finish}] if choices else []}
            if include_usage:
                body["usage"] = usage_value
            data = ("data: " + json.dumps(body) + "\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        event(True, delta={"role": "assistant", "content": ""})
        for i, token in enumerate(completion):
            event(True, delta={"content": (" " if i and token[0].isalnum() else "") + token})
        event(True, finish="stop")
        if include_usage:
            event(False, usage_value=usage)
        done = b"data: [DONE]\n\n"
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self):
        if self.path == "/v1/models":
            self.reply(200, {"object": "list",
                             "data": [{"id": m, "object": "model", "owned_by": "zkcredit"}
                                      for m in MODELS]})
        else:
            self.error(404, f"no route {self.path}", "invalid_request_error")

    def do_POST(self):
        body = self.read_body()
        if self.path != "/v1/chat/completions":
            self.error(404, f"no route {self.path}", "invalid_request_error")
            return
        try:
            request = json.loads(body)
            messages = request["messages"]
            texts = [message_text(m) for m in messages]
            if not messages or None in texts:
                raise ValueError("messages must be a non-empty list of {role, content}")
            model = request.get("model", MODELS[0])
            if model not in MODELS:
                raise ValueError(f"unknown model {model}")
            max_tokens = int(request.get("max_tokens", DEFAULT_MAX_TOKENS))
            if not 1 <= max_tokens <= 4096:
                raise ValueError("max_tokens must be 1 to 4096")
            streamed = request.get("stream", False) is True
            include_usage = streamed and bool(
                (request.get("stream_options") or {}).get("include_usage", False))
        except (ValueError, KeyError, TypeError) as e:
            self.error(400, f"invalid request: {e}", "invalid_request_error")
            return

        prompt = [t for text in texts for t in tokens(text)]
        flagged = sorted({t.lower() for t in prompt} & self.server.flagged)
        if flagged:
            self.error(400, "the request was refused by the content policy",
                       "invalid_request_error", "content_policy_violation")
            return

        answer = completion_text(tokens(texts[-1]), max_tokens)
        completion = tokens(answer)
        self.server.served += 1
        completion_id = f"chatcmpl-{self.server.served}"
        usage = {"prompt_tokens": len(prompt), "completion_tokens": len(completion),
                 "total_tokens": len(prompt) + len(completion)}
        if streamed:
            self.stream(completion_id, model, completion, usage, include_usage)
            return
        self.reply(200, {
            "id": completion_id,
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": usage,
        })


def make_server(host="127.0.0.1", port=0, flagged=("forbidden",)):
    server = ThreadingHTTPServer((host, port), ChatHandler)
    server.daemon_threads = True
    server.flagged = {word.lower() for word in flagged}
    server.served = 0
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--flag", action="append", default=None,
                        help="a word that triggers the content policy (default: forbidden)")
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.flag or ("forbidden",))
    print("listening on %s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
