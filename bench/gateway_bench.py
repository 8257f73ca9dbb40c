#!/usr/bin/env python3
"""Gateway throughput and latency against a plain proxy, in one run.

Starts redis-server, one nginx (the module loaded, two workers) with a fast
upstream server block, a plain `proxy_pass` location and the same location
gated by zkcredit, then drives both with wrk: throughput at full load, and
latency percentiles at about half the gated throughput. Every gated request
carries a fresh, valid credential (pre-generated, cached in the build tree;
Redis starts empty each run, so none is spent yet).

    bench/gateway_bench.py BUILD_DIR [--credentials N] [--duration SECONDS]
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

function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
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
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"], "requests": total,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def credentials(build_dir, count):
    """Fresh credentials for GET /gated/item, cached per verification key."""
    with open(fx.CIRCUIT_VK, "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:12]
    path = os.path.join(build_dir, "bench", f"credentials-{tag}-{count}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    print(f"generating {count} credentials (cached in {path})", file=sys.stderr)
    user = {"k": "31337313373133731337", "deposit": str(fx.C_MAX * (count + 1))}
    made = fx.make_credentials([user], [fx.request_spec(0, i, "GET", "/gated/item")
                                        for i in range(count)])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(made, f)
    return made


def verify_seconds(nginx):
    text = nginx.request("GET", "/metrics").body.decode()
    total = float(re.search(r"^zkcredit_verify_seconds_sum ([\d.]+)", text, re.M).group(1))
    count = int(re.search(r"^zkcredit_verify_seconds_count (\d+)", text, re.M).group(1))
    return total / count if count else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--credentials", type=int, default=3000)
    parser.add_argument("--duration", type=int, default=3)
    args = parser.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    os.environ.setdefault("ZKC_MODULE", os.path.join(build_dir, "module", "nginx",
                                                     "ngx_http_zkcredit_module.so"))
    fx.CIRCUIT_WASM = fx.CIRCUIT_WASM or os.path.join(build_dir, "circuits", "credit_main_js",
                                                      "credit_main.wasm")
    fx.CIRCUIT_ZKEY = fx.CIRCUIT_ZKEY or os.path.join(fx.REPO_ROOT, "circuits", "keys", "credit.zkey")
    fx.CIRCUIT_VK = fx.CIRCUIT_VK or os.path.join(fx.REPO_ROOT, "circuits", "keys",
                                                  "verification_key.json")
    harness.MODULE_PATH = os.environ["ZKC_MODULE"]

    made = credentials(build_dir, args.credentials)
    cores = os.cpu_count()
    redis = harness.Redis().start()
    nginx = harness.Nginx(f"""
        access_log off;
        zkcredit_redis 127.0.0.1:{redis.port};
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
    """, workers=cores, main_body="worker_rlimit_nofile 4096;")
    fx.write_signing_key(nginx.prefix)
    try:
        fx.publish_root(redis, made["root_hex"])
        nginx.start()
        with tempfile.TemporaryDirectory() as tmp:
            creds_file = os.path.join(tmp, "credentials.txt")
            with open(creds_file, "w") as f:
                f.write("\n".join(c["header"] for c in made["credentials"]) + "\n")
            script = os.path.join(tmp, "gated.lua")
            with open(script, "w") as f:
                f.write(WRK_SCRIPT)

            threads, conns = 2, 16
            plain = wrk(nginx.port, "/plain/item", threads, conns, args.duration)
            gated = wrk(nginx.port, "/gated/item", threads, conns, args.duration, script,
                        (creds_file, str(threads)))
            if gated["non_2xx"]:
                raise SystemExit(f"{gated['non_2xx']} gated requests failed or ran out of "
                                 "credentials: raise --credentials or lower --duration")
            verify = verify_seconds(nginx)
            # latency at about half the gated throughput: one connection a thread
            plain_half = wrk(nginx.port, "/plain/item", 1, 1, args.duration)
            redis.command("FLUSHDB")
            fx.publish_root(redis, made["root_hex"])
            gated_half = wrk(nginx.port, "/gated/item", 1, 1, args.duration, script,
                             (creds_file, "1"))
    finally:
        nginx.stop()
        redis.stop()

    ceiling = cores / verify
    result = {
        "cores": cores,
        "plain_rps": plain["rps"],
        "gated_rps": gated["rps"],
        "gated_to_plain": gated["rps"] / plain["rps"],
        "verify_ms_in_nginx": verify * 1000,
        "verify_only_ceiling_rps": ceiling,
        "gated_to_ceiling": gated["rps"] / ceiling,
        "low_load_gated_rps": gated_half["rps"],
        "added_latency_p50_ms": gated_half["p50_ms"] - plain_half["p50_ms"],
        "added_latency_p99_ms": gated_half["p99_ms"] - plain_half["p99_ms"],
        "plain_low_load": plain_half,
        "gated_low_load": gated_half,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
