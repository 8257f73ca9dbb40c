#!/usr/bin/env python3
"""What metering a streamed answer costs, side by side in one run.

One nginx, one upstream that streams an OpenAI-format chat answer (SSE,
CHUNKS chunks 1 ms apart, its usage chunk and [DONE]), and three locations in front of
it: a plain `proxy_pass`, the same location gated by zkcredit with a fixed
charge, and gated with `zkcredit_meter openai` (the stream read line by line
and the voucher event inserted before [DONE]). Requests alternate between
the three; each gated request carries a fresh credential (native prover,
cached in the build tree, each spent once). Reported: the median time to the first
body byte and to the last byte, and the differences that matter: what the
gate adds (verification and the spend) and what the streaming filter adds
on top of the gate.

    bench/stream_bench.py BUILD_DIR [--requests N] [--chunks N]
"""

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nginx"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gateway_bench  # noqa: E402
import harness  # noqa: E402
import zkcredit_fixtures as fx  # noqa: E402
from openai_upstream import USAGE, chunk  # noqa: E402


# the time between two chunks, as between a model's tokens
INTERVAL = 0.001


def streaming_upstream(chunks):
    parts = [chunk("demo", {"content": f" word{i}"}, usage=None).encode() for i in range(chunks)]
    parts.append(chunk("demo", None, usage=USAGE, choices=False).encode())
    parts.append(b"data: [DONE]\n\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            # each chunk leaves at once, as a model server's tokens do
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in parts:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(INTERVAL)
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed_get(port, path, credential=None):
    """(seconds to the first body byte, seconds to the end, status)."""
    head = f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
    if credential:
        head += f"ZKCredit-Credential: {credential}\r\n"
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        s.sendall((head + "\r\n").encode())
        data, first = b"", None
        while True:
            chunk_ = s.recv(65536)
            if not chunk_:
                break
            data += chunk_
            if first is None and b"\r\n\r\n" in data and len(data) > data.index(b"\r\n\r\n") + 4:
                first = time.perf_counter() - started
        total = time.perf_counter() - started
    return first, total, int(data.split()[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--chunks", type=int, default=200)
    args = parser.parse_args()
    build_dir = gateway_bench.use_build(args.build_dir)

    upstream = streaming_upstream(args.chunks)
    redis = harness.Redis().start()
    nginx = harness.Nginx(f"""
    zkcredit_redis 127.0.0.1:{redis.port};
    zkcredit_redis_prefix test:;
    upstream sse {{ server 127.0.0.1:{upstream.server_address[1]}; keepalive 8; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        zkcredit_scope {fx.SCOPE};
        zkcredit_c_max {fx.C_MAX};
        zkcredit_verification_key {fx.CIRCUIT_VK};
        zkcredit_signing_key %%PREFIX%%/refund.key;
        access_log off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        location /plain/ {{ proxy_pass http://sse/; }}
        location /gated/ {{ zkcredit on; zkcredit_charge 10; proxy_pass http://sse/; }}
        location /metered/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price * 100000 100000;
            proxy_pass http://sse/;
        }}
    }}
""")
    fx.write_signing_key(nginx.prefix)
    nginx.start()
    try:
        key = gateway_bench.challenge_key_at(nginx, "/gated/stream")
        gated = gateway_bench.credentials(build_dir, key, args.requests, "/gated/stream")
        metered = gateway_bench.credentials(build_dir, key, args.requests, "/metered/stream")
        fx.publish_root(redis, gated["root_hex"])
        fx.publish_root(redis, metered["root_hex"])
        results = {"plain": [], "gated": [], "metered": []}
        for i in range(args.requests):
            for name, path, cred in (("plain", "/plain/stream", None),
                                     ("gated", "/gated/stream", gated["credentials"][i]),
                                     ("metered", "/metered/stream", metered["credentials"][i])):
                first, total, status = timed_get(nginx.port, path, cred)
                if status != 200:
                    raise SystemExit(f"{name} answered {status}")
                results[name].append((first, total))
        median = {name: (statistics.median(f for f, _ in runs) * 1000,
                         statistics.median(t for _, t in runs) * 1000)
                  for name, runs in results.items()}
        print(f"streams of {args.chunks} chunks, {args.requests} requests each, alternating")
        for name, (first, total) in median.items():
            print(f"  {name:8s} first byte {first:7.3f} ms   whole stream {total:7.3f} ms")
        print(f"  the gate adds       {median['gated'][0] - median['plain'][0]:+.3f} ms to the first byte")
        print(f"  the stream filter   {median['metered'][0] - median['gated'][0]:+.3f} ms to the first byte, "
              f"{median['metered'][1] / median['gated'][1] - 1:+.2%} to the whole stream "
              f"({(median['metered'][1] - median['gated'][1]) * 1000 / args.chunks:+.1f} us a chunk)")
    finally:
        nginx.stop()
        redis.stop()
        upstream.shutdown()


if __name__ == "__main__":
    main()
