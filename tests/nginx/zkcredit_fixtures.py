"""Shared pieces of the gateway tests: real credentials made by the
reference implementation and snarkjs, an example upstream, a fake Redis for
faults a real one cannot produce, and the gateway's configuration."""

import base64
import json
import os
import socket
import socketserver
import subprocess
import threading
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


def node_tool(script, spec):
    done = subprocess.run(["node", os.path.join(REPO_ROOT, "tests", "reference", script)],
                          input=json.dumps(spec), capture_output=True, text=True,
                          timeout=600, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def make_credentials(users, requests, scope=SCOPE, c_max=C_MAX, signing_key_hex=SIGNING_KEY_HEX):
    """Proves one credential per request; see tests/reference/make_credentials.mjs."""
    return node_tool("make_credentials.mjs", {
        "wasm": CIRCUIT_WASM, "zkey": CIRCUIT_ZKEY, "depth": 20,
        "scope": scope, "c_max": str(c_max), "signing_key_hex": signing_key_hex,
        "users": users, "requests": requests,
    })


def check_refunds(key_packed_hex, checks, scope=SCOPE):
    return node_tool("check_refund.mjs", {
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

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, body))
        status, headers = 200, {"X-Cost": "250"}
        if self.path.startswith("/v1/policy"):
            headers = {"X-Cost": "10", "ZKCredit-Policy": "violation: test content"}
        elif self.path.startswith("/v1/fail"):
            status, headers = 500, {}
        payload = json.dumps({"path": self.path, "body_bytes": len(body)}).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
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
    answers bytes that are not RESP, 'error' answers -ERR, 'close' hangs up."""

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


def write_signing_key(prefix, hex_key=SIGNING_KEY_HEX, mode=0o600):
    path = os.path.join(prefix, "refund.key")
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
        zkcredit_scope {SCOPE};
        zkcredit_c_max {C_MAX};
        zkcredit_verification_key {CIRCUIT_VK};
        zkcredit_signing_key %%PREFIX%%/refund.key;
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


def publish_root(redis, root_hex, stopped_at="inf"):
    """What the registry does: the current root scores +inf."""
    redis.command("ZADD", "test:roots", stopped_at, root_hex)


def free_port_without_listener():
    """A loopback port where connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
