#!/usr/bin/env python3
"""Gateway throughput and latency against a plain proxy, in one run.

Starts redis-server and one nginx (the module loaded, one worker per core)
with a fast upstream server block, a plain `proxy_pass` location and the
same location gated by zkcredit, then drives both with wrk, alternating
plain and gated rounds: throughput at full load (16 connections), then
latency with one connection. Every gated request carries a fresh, valid
credential proved by the native prover (bench/make_credentials.cpp), once,
cached in the build tree; Redis is emptied before each gated round, so the
same set is unspent again and the gateway does the full work each time.

    bench/gateway_bench.py BUILD_DIR [--credentials N] [--duration SECONDS] [--rounds N]
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nginx"))

import harness  # noqa: E402
import zkcredit_fixtures as fx  # noqa: E402

# Each wrk thread takes every stride-th credential, so none is sent twice.
WRK_SCRIPT = r"""
local credentials = {}
local next_index = 1
local stride = 1
local thread_count = 0
local threads = {}
statuses = {}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    table.insert(credentials, line)
  end
  stride = tonumber(args[2])
  next_index = id
end

function request()
  local credential = credentials[next_index]
  next_index = next_index + stride
  if credential == nil then
    return wrk.format("GET", "/exhausted")
  end
  return wrk.format("GET", "/gated/item", {["ZKCredit-Credential"] = credential})
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

-- "status 200 1234" lines, so that a failed round says what failed
function done()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
"""


def wrk(port, path, threads, connections, duration, script=None, script_args=()):
    cmd = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        lat[pct] = value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)}
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "requests": total,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "statuses": statuses}


def challenge_key(nginx):
    """The refund key the gated location announces in its 402 challenge."""
    return challenge_key_at(nginx, "/gated/item")


def challenge_key_at(nginx, path):
    resp = nginx.request("GET", path)
    if resp.status != 402:
        raise SystemExit(f"the gated location answered {resp.status}, not 402")
    return re.search(r'key="([0-9a-f]{64})"', resp.header("WWW-Authenticate")).group(1)


def use_build(build_dir):
    """Points the test harness at a build tree's module and the committed
    keys; returns the build tree's absolute path."""
    build_dir = os.path.abspath(build_dir)
    os.environ.setdefault("ZKC_MODULE", os.path.join(build_dir, "module", "nginx",
                                                     "ngx_http_zkcredit_module.so"))
    fx.CIRCUIT_ZKEY = fx.CIRCUIT_ZKEY or os.path.join(fx.REPO_ROOT, "circuits", "keys", "credit.zkey")
    fx.CIRCUIT_VK = fx.CIRCUIT_VK or os.path.join(fx.REPO_ROOT, "circuits", "keys",
                                                  "verification_key.json")
    harness.MODULE_PATH = os.environ["ZKC_MODULE"]
    return build_dir


def credentials(build_dir, key_hex, count, target="/gated/item"):
    """Fresh credentials for GET target from the native prover, cached per
    verification key, refund key, target and count (Redis starts empty each
    round, so the same set is fresh again)."""
    with open(fx.CIRCUIT_VK, "rb") as f:
        tag = hashlib.sha256(f.read() + key_hex.encode() + target.encode()).hexdigest()[:12]
    path = os.path.join(build_dir, "bench", f"credentials-{tag}-{count}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    print(f"proving {count} credentials with the native prover, once (cached in {path})",
          file=sys.stderr, flush=True)
    out = subprocess.run([os.path.join(build_dir, "bench", "make_credentials"),
                          os.path.join(build_dir, "client", "witness_gen", "credit_main_cpp",
                                       "credit_main.dat"),
                          fx.CIRCUIT_ZKEY, fx.SCOPE, str(fx.C_MAX), key_hex, "GET",
                          target, str(count)],
                         check=True, capture_output=True, text=True).stdout
    with open(path + ".tmp", "w") as f:
        f.write(out)
    os.replace(path + ".tmp", path)
    return json.loads(out)


def verify_totals(nginx):
    """(seconds, count) of the gateway's verification-time histogram."""
    text = nginx.request("GET", "/metrics").body.decode()
    total = float(re.search(r"^zkcredit_verify_seconds_sum ([\d.]+)", text, re.M).group(1))
    count = int(re.search(r"^zkcredit_verify_seconds_count (\d+)", text, re.M).group(1))
    return total, count


def bench_gateway(redis, workers, extra_http=""):
    """An nginx (not started) with a `return 200` upstream, a plain
    `proxy_pass` location /plain/ and the same gated, /gated/, charging 100."""
    nginx = harness.Nginx(f"""
        access_log off;
        zkcredit_redis 127.0.0.1:{redis.port};
        zkcredit_redis_prefix test:;
        {extra_http}
        upstream fast {{ server 127.0.0.1:%%PORT_up%%; keepalive 64; }}
        server {{
            listen 127.0.0.1:%%PORT_up%%;
            location / {{ return 200 "{{\\"ok\\":true}}\\n"; }}
        }}
        server {{
            listen 127.0.0.1:%%PORT%%;
            zkcredit_scope {fx.SCOPE};
            zkcredit_c_max {fx.C_MAX};
            zkcredit_verification_key {fx.CIRCUIT_VK};
            zkcredit_signing_key %%PREFIX%%/refund.key;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            location /plain/ {{ proxy_pass http://fast; }}
            location /gated/ {{ zkcredit on; zkcredit_charge 100; proxy_pass http://fast; }}
            location = /metrics {{ zkcredit_metrics; }}
        }}
    """, workers=workers, main_body="worker_rlimit_nofile 4096;")
    fx.write_signing_key(nginx.prefix)
    return nginx


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--credentials", type=int, default=2400)
    parser.add_argument("--duration", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    build_dir = use_build(args.build_dir)

    cores = os.cpu_count()
    redis = harness.Redis().start()
    nginx = bench_gateway(redis, cores)
    try:
        nginx.start()
        made = credentials(build_dir, challenge_key(nginx), args.credentials)

        def fresh_store():
            redis.command("FLUSHDB")
            fx.publish_root(redis, made["root_hex"])

        with tempfile.TemporaryDirectory() as tmp:
            creds_file = os.path.join(tmp, "credentials.txt")
            with open(creds_file, "w") as f:
                f.write("\n".join(made["credentials"]) + "\n")
            script = os.path.join(tmp, "gated.lua")
            with open(script, "w") as f:
                f.write(WRK_SCRIPT)

            def gated_run(threads, conns):
                fresh_store()
                run = wrk(nginx.port, "/gated/item", threads, conns, args.duration, script,
                          (creds_file, str(threads)))
                if run["non_2xx"]:
                    raise SystemExit(f"{run['non_2xx']} of {run['requests']} gated requests got no "
                                     f"2xx (by status: {run['statuses']}; 404 means the "
                                     "credentials ran out: raise --credentials or lower "
                                     "--duration)")
                return run

            # plain and gated alternate, so both see the same machine
            threads, conns = 2, 16
            plain_runs, gated_runs = [], []
            for _ in range(args.rounds):
                plain_runs.append(wrk(nginx.port, "/plain/item", threads, conns, args.duration))
                gated_runs.append(gated_run(threads, conns))
            # latency without queueing: one connection, one request at a time;
            # the verification time for the ceiling is measured here too, as
            # under saturation the thread pool's threads share the cores and
            # each verification's wall time stretches
            plain_one = wrk(nginx.port, "/plain/item", 1, 1, args.duration)
            seconds_before, count_before = verify_totals(nginx)
            gated_one = gated_run(1, 1)
            seconds_after, count_after = verify_totals(nginx)
            verify = (seconds_after - seconds_before) / (count_after - count_before)
    finally:
        nginx.stop()
        redis.stop()

    ceiling = cores / verify
    plain_rps = median([run["rps"] for run in plain_runs])
    gated_rps = median([run["rps"] for run in gated_runs])
    result = {
        "cores": cores,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "plain_rps": plain_rps,
        "gated_rps": gated_rps,
        "gated_to_plain": median([g["rps"] / p["rps"] for p, g in zip(plain_runs, gated_runs)]),
        "verify_ms_in_nginx": verify * 1000,
        "verify_only_ceiling_rps": ceiling,
        "gated_to_ceiling": gated_rps / ceiling,
        "gated_p50_ms_loaded": median([run["p50_ms"] for run in gated_runs]),
        "gated_p99_ms_loaded": median([run["p99_ms"] for run in gated_runs]),
        # one connection offers this fraction of the saturated gated load
        "one_connection_load_fraction": gated_one["rps"] / gated_rps,
        "added_latency_p50_ms": gated_one["p50_ms"] - plain_one["p50_ms"],
        "added_latency_p99_ms": gated_one["p99_ms"] - plain_one["p99_ms"],
        "plain_one_connection": plain_one,
        "gated_one_connection": gated_one,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
