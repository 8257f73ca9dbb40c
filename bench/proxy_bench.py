#!/usr/bin/env python3
"""What `zkcredit proxy` adds to a paid request, side by side in one run.

One gateway (nginx + module, real Redis) in front of a fixed JSON answer
served by nginx itself, and two ways to pay for GET /gated/item, alternating:
directly, with a credential proved beforehand by the native prover (the
cheapest a client can do), and through a `zkcredit proxy`, which takes the
next ticket, finishes the precomputed proof, checks it, sends the request,
stores the voucher and the state durably, and streams the answer back.
Before each proxy request the bench waits for the background precompute of
that ticket, as an application that is not sending all the time finds it.

Reported: the medians of both, the proxy's own proving time (from its status
endpoint), and the added latency without it (the goal is <= 1 ms); then the
end-to-end latency of a paid request through a proxy that proves in full
(no precompute). The proxy writes the state durably (fsync) before a ticket
leaves, so the added latency is mostly the disk's: --state-dir /dev/shm
shows the rest.

    bench/proxy_bench.py BUILD_DIR [--requests N] [--full N] [--state-dir DIR]
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nginx"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gateway_bench  # noqa: E402
import harness  # noqa: E402
import test_proxy  # noqa: E402
import zkcredit_fixtures as fx  # noqa: E402
from test_proxy import Proxy  # noqa: E402


def timed_get(port, path, headers=None):
    """(seconds, status) of one GET on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, response.status


def wait_for_file(path, proxy, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"no precompute appeared at {path}; the proxy said "
                             + "".join(proxy.said()))
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--full", type=int, default=5)
    parser.add_argument("--state-dir", default=None,
                        help="where the state files live (default: the system's temporary "
                             "directory); /dev/shm shows the proxy without the disk's fsyncs")
    args = parser.parse_args()
    build_dir = gateway_bench.use_build(args.build_dir)
    client = os.path.join(build_dir, "client", "zkcredit")
    registry = os.path.join(build_dir, "registry", "zkcredit-registry")
    test_proxy.CLIENT = client

    redis = harness.Redis().start()
    nginx = harness.Nginx(f"""
        access_log off;
        zkcredit_redis 127.0.0.1:{redis.port};
        zkcredit_redis_prefix test:;
        upstream fast {{ server 127.0.0.1:%%PORT_up%%; keepalive 8; }}
        server {{
            listen 127.0.0.1:%%PORT_up%%;
            location / {{ return 200 "{{\\"ok\\":true}}\\n"; }}
        }}
        server {{
            listen 127.0.0.1:%%PORT%%;
            {fx.deployment_directives()}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            location /gated/ {{ zkcredit on; zkcredit_charge 100; proxy_pass http://fast; }}
            location /zkcredit/refunds/ {{ zkcredit_refunds; }}
            location = /zkcredit/leaves.json {{ alias %%PREFIX%%/html/leaves.json; }}
        }}
    """)
    fx.write_signing_key(nginx.prefix)
    home = tempfile.mkdtemp(prefix="zkc-proxy-bench-", dir=args.state_dir)
    proxies = []
    try:
        nginx.start()
        base = f"http://127.0.0.1:{nginx.port}"
        leaves_file = os.path.join(nginx.prefix, "html", "leaves.json")

        def new_user(name):
            state = os.path.join(home, name + ".json")
            run = lambda *a: subprocess.run([client, "--state", state, *a], check=True,  # noqa: E731
                                            capture_output=True, text=True).stdout
            run("init")
            deposit = (args.requests + args.full + 2) * fx.C_MAX
            identity = json.loads(run("--json", "register", "--deposit", str(deposit)))["id"]
            fx.register_deposit(registry, redis.port, leaves_file, identity, deposit)
            return state, run

        fast_state, fast_run = new_user("precomputed")
        full_state, full_run = new_user("full")
        for run in (fast_run, full_run):
            run("sync", "--leaves", base + "/zkcredit/leaves.json")

        key = gateway_bench.challenge_key_at(nginx, "/gated/item")
        direct = gateway_bench.credentials(build_dir, key, args.requests, "/gated/item")
        fx.publish_root(redis, direct["root_hex"])

        proxy = Proxy(fast_state, base + "/gated")
        proxies.append(proxy)
        # The first request learns the deployment (and proves in full).
        timed_get(proxy.port, "/gated/item")
        precompute = fast_state + ".precompute"
        direct_times, proxy_times, proving = [], [], []
        for i in range(args.requests):
            seconds, status = timed_get(nginx.port, "/gated/item",
                                        {"ZKCredit-Credential": direct["credentials"][i]})
            if status != 200:
                raise SystemExit(f"direct request answered {status}")
            direct_times.append(seconds)
            wait_for_file(precompute, proxy)
            seconds, status = timed_get(proxy.port, "/gated/item")
            if status != 200:
                raise SystemExit(f"proxy request answered {status}")
            # The proxy writes the state after the answer has left.
            paid = harness.eventually(lambda: proxy.status()["last_payment"],
                                      lambda p: p["ticket"] == i + 1)
            if paid["proof"] != "precomputed":
                raise SystemExit(f"request {i} was proved {paid['proof']}")
            proxy_times.append(seconds)
            proving.append(paid["proving_ms"] / 1e3)
        proxy.stop()

        full = Proxy(full_state, base + "/gated", env={"ZKCREDIT_PRECOMPUTE": "0"})
        proxies.append(full)
        timed_get(full.port, "/gated/item")
        full_times = []
        for _ in range(args.full):
            seconds, status = timed_get(full.port, "/gated/item")
            if status != 200:
                raise SystemExit(f"full-proof request answered {status}")
            full_times.append(seconds)

        ms = lambda values: statistics.median(values) * 1e3  # noqa: E731
        without = [t - p for t, p in zip(proxy_times, proving)]
        print(f"GET /gated/item, {args.requests} requests each, alternating, new connection each")
        print(f"  direct, credential proved beforehand     {ms(direct_times):8.3f} ms")
        print(f"  through the proxy, precomputed proof     {ms(proxy_times):8.3f} ms  (end to end)")
        print(f"    of which the proxy's proving            {ms(proving):8.3f} ms  "
              "(finish + check against the verifying key)")
        print(f"  the proxy adds, proving excluded         {ms(without) - ms(direct_times):+8.3f} ms")
        print(f"through a proxy proving in full, {args.full} requests: "
              f"{ms(full_times):8.3f} ms end to end")
    finally:
        for p in proxies:
            p.stop()
        nginx.stop()
        redis.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
