"""Shared pieces of the gateway tests: real credentials made by the
reference implementation and snarkjs, an example upstream, a fake Redis for
faults a real one cannot produce, and the gateway's configuration."""

import base64
import hashlib
import http.client
import json
import os
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIRCUIT_WASM = os.environ.get("ZKC_CIRCUIT_WASM", "")
CIRCUIT_ZKEY = os.environ.get("ZKC_CIRCUIT_ZKEY", "")
CIRCUIT_VK = os.environ.get("ZKC_CIRCUIT_VK", "")

SCOPE = "77"
C_MAX = 1000
SIGNING_KEY_HEX = "07" * 32
OTHER_SIGNING_KEY_HEX = "09" * 32


# Proofs take seconds each; the suite runs twice (plain and sanitizer
# builds) with the same keys, so a batch is proved once and kept here.
CREDENTIAL_CACHE = os.environ.get("ZKC_CREDENTIAL_CACHE",
                                  os.path.join(tempfile.gettempdir(), "zkcredit-credentials"))


def deployment_directives():
    """The test deployment: scope, C_max, the ceremony's key, a refund key
    written by write_signing_key."""
    return (f"zkcredit_scope {SCOPE}; zkcredit_c_max {C_MAX}; "
            f"zkcredit_verification_key {CIRCUIT_VK}; "
            "zkcredit_signing_key %%PREFIX%%/refund.key;")


def node_tool(script, spec):
    done = subprocess.run(["node", os.path.join(REPO_ROOT, "tests", "reference", script)],
                          input=json.dumps(spec), capture_output=True, text=True,
                          timeout=600, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def make_credentials(users, requests, scope=SCOPE, c_max=C_MAX, signing_key_hex=SIGNING_KEY_HEX,
                     cache=True):
    """Proves one credential per request; see tests/reference/make_credentials.mjs.
    A batch spends distinct tickets, so a cached copy is as good as a new one
    for a test with its own Redis; cache=False for tests that chain vouchers."""
    spec = {
        "wasm": CIRCUIT_WASM, "zkey": CIRCUIT_ZKEY, "depth": 20,
        "scope": scope, "c_max": str(c_max), "signing_key_hex": signing_key_hex,
        "users": users, "requests": requests,
    }
    if not cache:
        return node_tool("make_credentials.mjs", spec)
    stat = os.stat(CIRCUIT_ZKEY)
    tag = hashlib.sha256(json.dumps([spec, stat.st_size, stat.st_mtime_ns],
                                    sort_keys=True).encode()).hexdigest()[:24]
    path = os.path.join(CREDENTIAL_CACHE, f"{tag}.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    made = node_tool("make_credentials.mjs", spec)
    os.makedirs(CREDENTIAL_CACHE, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=CREDENTIAL_CACHE, delete=False) as f:
        json.dump(made, f)
    os.replace(f.name, path)
    return made


def voucher_amount(voucher_b64):
    """The refund a voucher carries (docs/protocol.md §9), unchecked."""
    raw = base64.urlsafe_b64decode(voucher_b64 + "=" * (-len(voucher_b64) % 4))
    return int.from_bytes(raw[1:9], "big")


class _RefundOracle:
    """tests/reference/check_refund.mjs kept running for the whole test
    process, one request per line: circomlibjs checks every voucher, and
    builds its curves once."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()

    def ask(self, spec):
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.proc = subprocess.Popen(
                    ["node", os.path.join(REPO_ROOT, "tests", "reference", "check_refund.mjs")],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
            self.proc.stdin.write(json.dumps(spec) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("check_refund.mjs stopped")
            return json.loads(line)


_REFUND_ORACLE = _RefundOracle()


def check_refunds(key_packed_hex, checks, scope=SCOPE):
    return _REFUND_ORACLE.ask({
        "key_packed_hex": key_packed_hex, "scope": scope, "checks": checks,
    })["results"]


def request_spec(user, ticket, method, target, body=b"", voucher=None):
    spec = {"user": user, "ticket": ticket, "method": method, "target": target,
            "body_b64": base64.b64encode(body).decode()}
    if voucher:
        spec["voucher"] = voucher
    return spec


class UpstreamHandler(BaseHTTPRequestHandler):
    """An API behind the gateway: reports each request's cost in X-Cost."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    return body
                body += chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self):
        body = self.read_body()
        self.server.seen.append((self.command, self.path, body))
        status, headers = 200, [("X-Cost", "250")]
        content_type = "application/json"
        payload = json.dumps({"path": self.path, "body_bytes": len(body)}).encode()
        if self.path.startswith("/v1/policy-stream"):
            # a stream refused in its header, as an SSE API would refuse it
            headers = [("ZKCredit-Policy", "violation: streamed content")]
            content_type = "text/event-stream"
            payload = b'data: {"refused": true}\n\ndata: [DONE]\n\n'
        elif self.path.startswith("/v1/policy-twice"):
            headers = [("X-Cost", "10"), ("ZKCredit-Policy", "violation: first"),
                       ("ZKCredit-Policy", "violation: second")]
        elif self.path.startswith("/v1/policy"):
            headers = [("X-Cost", "10"), ("ZKCredit-Policy", "violation: test content")]
        elif self.path.startswith("/v1/fail"):
            status, headers = 500, []
        elif self.path.startswith("/v1/forge"):
            headers = [("X-Cost", "250"), ("ZKCredit-Refund", "forged-by-the-upstream"),
                       ("ZKCredit-Policy-Receipt", "forged-by-the-upstream")]
        elif self.path.startswith("/v1/accel"):
            headers = [("X-Accel-Redirect", "/internal/done")]
        elif self.path.startswith("/v1/slow"):
            time.sleep(3)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = answer


class Upstream:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), UpstreamHandler)
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


class FakeRedis:
    """A RESP endpoint that misbehaves: 'silent' never answers, 'garbage'
    answers bytes that are not RESP, 'error' answers -ERR, 'close' hangs up,
    'unsolicited' answers each command, then sends one reply more."""

    def __init__(self, mode):
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(30)
                while True:
                    try:
                        data = self.request.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    fake.commands += 1
                    if fake.mode == "close":
                        return
                    if fake.mode == "garbage":
                        self.request.sendall(b"?not resp at all\r\n")
                    elif fake.mode == "error":
                        self.request.sendall(b"-ERR injected failure\r\n")
                    elif fake.mode == "unsolicited":
                        self.request.sendall(b"$-1\r\n+OK\r\n")

        self.mode = mode
        self.commands = 0
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LateRedis:
    """A TCP relay in front of a real redis-server whose replies can be held
    back: the server runs each command at once, its answer arrives late.
    hold(seconds) delays the next chunk of replies on every connection."""

    def __init__(self, redis_port):
        relay = self
        self.redis_port = redis_port
        self.holds = []
        self.lock = threading.Lock()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(("127.0.0.1", relay.redis_port))
                client = self.request

                def replies():
                    try:
                        while True:
                            data = upstream.recv(65536)
                            if not data:
                                break
                            with relay.lock:
                                hold = relay.holds.pop(0) if relay.holds else 0
                            if hold:
                                time.sleep(hold)
                            client.sendall(data)
                    except OSError:
                        pass
                    finally:
                        client.close()

                back = threading.Thread(target=replies, daemon=True)
                back.start()
                try:
                    while True:
                        data = client.recv(65536)
                        if not data:
                            break
                        upstream.sendall(data)
                except OSError:
                    pass
                finally:
                    upstream.close()
                    back.join(timeout=30)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hold(self, seconds):
        with self.lock:
            self.holds.append(seconds)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def write_signing_key(prefix, hex_key=SIGNING_KEY_HEX, mode=0o600, name="refund.key"):
    path = os.path.join(prefix, name)
    with open(path, "w") as f:
        f.write(hex_key + "\n")
    os.chmod(path, mode)
    return path


def gateway_http_body(redis_port, upstream_port, extra_server="", extra_http="",
                      mode="on", redis_timeout="200ms"):
    """An http{} body: one gated API, a shadow location, refunds, metrics."""
    return f"""
    zkcredit_redis 127.0.0.1:{redis_port};
    zkcredit_redis_timeout {redis_timeout};
    zkcredit_redis_prefix test:;
    log_format zkcredit_private '$request_method $uri $status $zkcredit_status';
    {extra_http}
    upstream api {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        {deployment_directives()}
        access_log %%PREFIX%%/gated.log zkcredit_private;
        client_max_body_size 4m;

        location /v1/ {{
            zkcredit {mode};
            zkcredit_charge $upstream_http_x_cost;
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location /shadow/ {{
            zkcredit shadow;
            proxy_pass http://api/v1/;
        }}
        # the nullifier is in the URI: keep it out of the logs
        location /zkcredit/refunds/ {{ zkcredit_refunds; access_log off; }}
        location = /metrics {{ zkcredit_metrics; }}
        {extra_server}
    }}
"""


def gateway(redis_port, upstream_port, nginx_options=None, **kwargs):
    """An nginx instance (not started) configured as gateway_http_body says."""
    nginx = harness.Nginx(gateway_http_body(redis_port, upstream_port, **kwargs),
                          **(nginx_options or {}))
    write_signing_key(nginx.prefix)
    return nginx


def chat_params(question, stream=False):
    """OpenAI chat completion parameters for the example upstream; a stream
    asks for the usage chunk."""
    body = {"model": "zk-echo-1", "messages": [{"role": "user", "content": question}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def chat_expected(chat_upstream, question):
    """What the example upstream answers: the text, OpenAI's usage object
    and the charge at its prices."""
    prompt = chat_upstream.tokens(question)
    answer = chat_upstream.completion_text(prompt, chat_upstream.DEFAULT_MAX_TOKENS)
    completion = chat_upstream.tokens(answer)
    usage = {"prompt_tokens": len(prompt), "completion_tokens": len(completion),
             "total_tokens": len(prompt) + len(completion)}
    charge = (len(prompt) * chat_upstream.PROMPT_PRICE
              + len(completion) * chat_upstream.COMPLETION_PRICE)
    return answer, usage, charge


def metered_chat_gateway(redis_port, upstream_port, prompt_price, completion_price,
                         extra_server=""):
    """An nginx instance (not started) gating an OpenAI-format chat API with
    `zkcredit_meter openai` at these prices (credits per token)."""
    prompt_price *= 1000000
    completion_price *= 1000000
    nginx = harness.Nginx(f"""
    zkcredit_redis 127.0.0.1:{redis_port};
    zkcredit_redis_prefix test:;
    server {{
        listen 127.0.0.1:%%PORT%%;
        {deployment_directives()}
        location /v1/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price * {prompt_price} {completion_price};
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Accept-Encoding "";
            proxy_buffering off;
        }}
        {extra_server}
    }}
""")
    write_signing_key(nginx.prefix)
    return nginx


def register_deposit(registry, redis_port, leaves_file, identity, deposit):
    """What the provider does once a deposit is paid: the registry tool
    records it and publishes the new list of leaves (and root)."""
    subprocess.run([registry, "--redis", f"127.0.0.1:{redis_port}", "--prefix", "test:",
                    "register", "--id", identity, "--deposit", str(deposit),
                    "--publish", leaves_file],
                   check=True, capture_output=True, timeout=60)


def publish_root(redis, root_hex, stopped_at="inf"):
    """What the registry does: the current root scores +inf."""
    redis.command("ZADD", "test:roots", stopped_at, root_hex)


def free_port_without_listener():
    """A loopback port where connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FaultyRelay(ThreadingHTTPServer):
    """A relay in front of the gateway that injects the faults a real one
    cannot be made to show on cue. `fault(n)` decides for the n-th request
    that carries a credential (from 1): None passes it through, "drop"
    reads it whole and closes the connection without an answer (as a
    network that loses the answer), a (status, headers, body) tuple is the
    answer instead of the gateway's. Every credential seen is kept, with
    its body."""

    def __init__(self, gateway_port, fault):
        relay = self
        self.credentials = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                credential = self.headers.get("ZKCredit-Credential")
                injected = None
                if credential:
                    relay.credentials.append((credential, body))
                    injected = fault(len(relay.credentials))
                if injected == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if injected is not None:
                    status, headers, answer = injected
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", gateway_port, timeout=30)
                    conn.request(self.command, self.path, body=body or None,
                                 headers={k: v for k, v in self.headers.items()
                                          if k.lower() not in ("host", "connection")})
                    response = conn.getresponse()
                    answer = response.read()
                    status = response.status
                    headers = [(k, v) for k, v in response.getheaders()
                               if k.lower() not in ("connection", "transfer-encoding",
                                                    "content-length", "keep-alive")]
                    conn.close()
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = relay

        super().__init__(("127.0.0.1", 0), Handler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]

    def close(self):
        self.shutdown()
        self.server_close()


def store_outage_once(n):
    """The first paid request answered as the gateway does while its store
    is down (503 store-unavailable: nothing spent); the rest passed."""
    if n != 1:
        return None
    return 503, [("Content-Type", "application/problem+json"), ("Retry-After", "0")], \
        json.dumps({"type": "urn:zkcredit:problem:store-unavailable", "title": "store unavailable",
                    "status": "503", "spent": "no"}).encode()
