"""Upstreams the gateway meters without their knowing: an OpenAI-compatible
chat API (JSON and SSE answers exactly in OpenAI's format) and a JSON-RPC
node. What the chat API does is chosen by the request's "model", so that
each test names the behaviour it needs; nothing here sends X-Cost."""

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# what each answer reports, so that tests can compute the price themselves
USAGE = {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
         "prompt_tokens_details": {"cached_tokens": 200},
         "completion_tokens_details": {"reasoning_tokens": 100}}

WORDS = ["Hello", " from", " the", " metered", " model", "."]


def chunk(model, delta, finish=None, usage=None, choices=True):
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1,
            "model": model,
            "choices": ([{"index": 0, "delta": delta, "logprobs": None,
                          "finish_reason": finish}] if choices else [])}
    if usage is not False:
        body["usage"] = usage
    return "data: " + json.dumps(body) + "\n\n"


class ChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.seen.append((self.path, raw))
        try:
            return json.loads(raw)
        except ValueError:
            return {}

    def send_chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        if self.path.startswith("/rpc"):
            return self.rpc()
        request = self.read_json()
        model = request.get("model", "demo")
        if request.get("stream"):
            return self.stream(model, request)
        return self.answer(model)

    def answer(self, model):
        status = 200
        body = {"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                             "finish_reason": "stop"}],
                "usage": USAGE}
        raw = None
        if model == "no-usage":
            del body["usage"]
        elif model == "policy":
            status = 400
            body = {"error": {"message": "Your request was rejected by the safety system.",
                              "type": "invalid_request_error", "param": None,
                              "code": "content_policy_violation"}}
        elif model == "huge":
            body["usage"] = {"prompt_tokens": 2 ** 70, "completion_tokens": 1}
        elif model == "negative":
            body["usage"] = {"prompt_tokens": -5, "completion_tokens": 1}
        elif model == "fraction":
            body["usage"] = {"prompt_tokens": 1.5, "completion_tokens": 1}
        elif model == "lots":
            body["usage"] = {"prompt_tokens": 10 ** 18, "completion_tokens": 10 ** 18}
        elif model == "duplicate":
            raw = (json.dumps(body)[:-1] + ', "usage": {"prompt_tokens": 1, "completion_tokens": 1}}').encode()
        elif model == "deep":
            raw = (b'{"model": "deep", "usage": ' + b"[" * 5000 + b"]" * 5000 + b"}")
        elif model == "big":
            body["padding"] = "x" * (3 * 1024 * 1024)
        raw = raw if raw is not None else json.dumps(body).encode()
        headers = [("Content-Type", "application/json")]
        if model == "gzip":
            raw = gzip.compress(raw)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def stream(self, model, request):
        include_usage = (request.get("stream_options") or {}).get("include_usage", False)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = WORDS * (200 if model == "long" else 1)
        parts = [chunk(model, {"role": "assistant", "content": ""}, usage=None if include_usage else False)]
        parts += [chunk(model, {"content": w}, usage=None if include_usage else False) for w in words]
        parts.append(chunk(model, {}, finish="stop", usage=None if include_usage else False))
        if model == "forge":
            parts.append(": zkcredit-refund forged-by-the-upstream\n")
        if include_usage:
            parts.append(chunk(model, None, usage=USAGE, choices=False))
        if model != "no-done":
            parts.append("data: [DONE]\n\n")
        if model == "one-write":
            self.send_chunk("".join(parts))
        elif model == "split":
            # every line cut in pieces, each piece its own read upstream
            for part in parts:
                for i in range(0, len(part), 40):
                    self.send_chunk(part[i:i + 40])
                    time.sleep(0.001)
        elif model == "cut":
            for part in parts[:3]:
                self.send_chunk(part)
            self.send_chunk(parts[3][:20])
            # the connection drops mid-line, without the last chunk
            self.wfile.flush()
            self.close_connection = True
            return
        elif model == "slow":
            for part in parts:
                self.send_chunk(part)
                time.sleep(0.3)
        else:
            for part in parts:
                self.send_chunk(part)
        self.send_chunk(b"")

    def rpc(self):
        request = self.read_json()
        calls = request if isinstance(request, list) else [request]
        answers = [{"jsonrpc": "2.0", "id": c.get("id") if isinstance(c, dict) else None,
                    "result": "0x1"} for c in calls]
        raw = json.dumps(answers if isinstance(request, list) else answers[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class OpenAIUpstream:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
        self.server.daemon_threads = True
        self.server.seen = []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
