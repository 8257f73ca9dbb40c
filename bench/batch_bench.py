#!/usr/bin/env python3
"""Gated throughput with batch verification against without, in one run.

Starts redis-server and two nginx instances (gateway_bench's), identical but for
`zkcredit_verify_batch` (1: every proof alone; --batch, by default 16, the
directive's default), each with
one worker per core and a `return 200` upstream, and drives them with wrk in
alternating rounds at 64 connections. Every request carries the same valid
credential: the first copy is served and every later one is verified in
full and then refused as spent (409), so each request costs one
verification and one Redis round trip, as a fresh credential would, without
proving thousands of them. Reports requests per second, the verification
time per proof inside nginx, the single-verification ceiling (cores / one
proof's time at batch size 1) measured in the same run, and the latency at
two connections (below saturation) for both.

    bench/batch_bench.py BUILD_DIR [--batch N] [--duration SECONDS] [--rounds N]
"""

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nginx"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import zkcredit_fixtures as fx  # noqa: E402
from gateway_bench import bench_gateway, median, use_build, verify_totals  # noqa: E402


def gateway(redis, batch, cores):
    return bench_gateway(redis, cores, extra_http=f"zkcredit_verify_batch {batch};").start()


def load(nginx, header, duration, connections=64):
    """wrk; returns requests per second and the p50 and p99 latency in ms."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-H", f"ZKCredit-Credential: {header}",
                          f"http://127.0.0.1:{nginx.port}/gated/item"],
                         check=True, capture_output=True, text=True).stdout

    def milliseconds(percentile):
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, milliseconds(50), milliseconds(99)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    build_dir = use_build(args.build_dir)
    # the credential is proved by snarkjs, through the tests' fixture
    fx.CIRCUIT_WASM = fx.CIRCUIT_WASM or os.path.join(build_dir, "circuits", "credit_main_js",
                                                      "credit_main.wasm")
    cores = os.cpu_count()

    made = fx.make_credentials([{"k": "515151", "deposit": "1000000"}],
                               [fx.request_spec(0, 0, "GET", "/gated/item")])
    header = made["credentials"][0]["header"]
    redis = harness.Redis().start()
    fx.publish_root(redis, made["root_hex"])
    single = gateway(redis, 1, cores)
    batched = gateway(redis, args.batch, cores)
    rates = {1: [], args.batch: []}
    per_proof = {1: [], args.batch: []}
    light = {}
    try:
        for _ in range(args.rounds):
            for batch, nginx in ((1, single), (args.batch, batched)):
                before = verify_totals(nginx)
                rates[batch].append(load(nginx, header, args.duration)[0])
                after = verify_totals(nginx)
                per_proof[batch].append((after[0] - before[0]) / max(1, after[1] - before[1]))
        # Two connections: about one request per worker at a time, well
        # below saturation, where nobody waits and nothing is batched.
        for batch, nginx in ((1, single), (args.batch, batched)):
            light[batch] = load(nginx, header, args.duration, connections=2)
    finally:
        single.stop()
        batched.stop()
        redis.stop()

    ceiling = cores / median(per_proof[1])
    print(f"cores {cores}, {args.rounds} alternating rounds of {args.duration} s, 64 connections")
    for batch in (1, args.batch):
        print(f"zkcredit_verify_batch {batch:2}: {median(rates[batch]):7.0f} req/s "
              f"(rounds {', '.join(f'{r:.0f}' for r in rates[batch])}), "
              f"{median(per_proof[batch]) * 1000:.3f} ms of verification per proof")
    print(f"single-verification ceiling (cores / one proof's time): {ceiling:.0f} req/s")
    for batch in (1, args.batch):
        rate, p50, p99 = light[batch]
        print(f"2 connections, zkcredit_verify_batch {batch:2}: {rate:.0f} req/s, "
              f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"batched / unbatched: {median(rates[args.batch]) / median(rates[1]):.2f}x; "
          f"batched / ceiling: {median(rates[args.batch]) / ceiling:.2f}x")


if __name__ == "__main__":
    main()
