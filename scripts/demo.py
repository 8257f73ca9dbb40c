#!/usr/bin/env python3
"""`make demo`: the whole zkcredit journey on loopback, with the real parts.

Starts redis-server, the example chat API (examples/chat_upstream.py),
nginx with the zkcredit module in front of it, and the registry's watcher
(which revokes double spenders); then two users deposit, make anonymous paid
requests with the zkcredit CLI, a policy violation is refused, one user
double-spends a ticket and loses the deposit. Every step checks what it
shows; the exit status is 0 only if every step behaved. Everything started
here is stopped at the end, whatever happens.

    scripts/demo.py [BUILD_DIR]       (ZKC_DEMO_KEEP=1 keeps the files)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "nginx"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import chat_upstream  # noqa: E402  (the price list, to check the charges)
import harness  # noqa: E402  (starts and stops nginx and redis-server)

SCOPE = 1
C_MAX = 1000
ROOT_WINDOW = 3  # seconds a superseded root stays acceptable; short for the demo
PREFIX = "zkcredit:"
DEPOSITS = {"alice": 3000, "bob": 5000}
BOLD, DIM, GREEN, RED, RESET = (("\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m")
                                if sys.stdout.isatty() else ("",) * 5)


class StepFailed(Exception):
    pass


def step(title):
    print(f"\n{BOLD}== {title}{RESET}", flush=True)


def say(text):
    print("   " + text.replace("\n", "\n   "), flush=True)


def check(condition, what):
    if not condition:
        raise StepFailed(what)
    print(f"   {GREEN}ok{RESET} {what}", flush=True)


def chat_body(text, stream=False):
    body = {"model": "zk-echo-1", "messages": [{"role": "user", "content": text}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(body)


def streamed_answer(sse):
    """The text of an OpenAI stream, and what its lines are: "data" for an
    event's data, "voucher" for the gateway's voucher comment."""
    text, kinds = "", []
    for line in sse.splitlines():
        if line.startswith(": zkcredit-refund "):
            kinds.append("voucher")
        elif line.startswith("data: "):
            kinds.append("data")
            if line[6:].startswith("{"):
                for choice in json.loads(line[6:])["choices"]:
                    text += choice["delta"].get("content", "")
    return text, kinds


def expected_cost(text):
    """What the example API charges for this one-message chat (its price list)."""
    prompt = chat_upstream.tokens(text)
    answer = chat_upstream.completion_text(prompt, chat_upstream.DEFAULT_MAX_TOKENS)
    return (chat_upstream.PROMPT_PRICE * len(prompt)
            + chat_upstream.COMPLETION_PRICE * len(chat_upstream.tokens(answer)))


class Demo:
    def __init__(self, build):
        self.client = os.path.join(build, "client", "zkcredit")
        self.registry_tool = os.path.join(build, "registry", "zkcredit-registry")
        harness.MODULE_PATH = os.path.join(build, "module", "nginx", "ngx_http_zkcredit_module.so")
        for path in (self.client, self.registry_tool, harness.MODULE_PATH):
            if not os.path.exists(path):
                raise SystemExit(f"demo: {path} is missing; run `make demo` (it builds first)")
        self.home = tempfile.mkdtemp(prefix="zkc-demo-")
        self.redis = self.upstream = self.nginx = self.watcher = None
        self.states = {}
        self.leaves = {}

    # -- the parts ---------------------------------------------------------

    def start(self):
        step("The provider starts Redis, its chat API, nginx with zkcredit, the registry watcher")
        self.redis = harness.Redis().start()
        self.upstream = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "examples", "chat_upstream.py")],
            stdout=subprocess.PIPE, text=True)
        upstream_port = int(self.upstream.stdout.readline().rsplit(":", 1)[1])
        self.nginx = harness.Nginx(f"""
    zkcredit_redis 127.0.0.1:{self.redis.port};
    # what the provider logs about a paid request: no address, no credential
    log_format zkcredit_private '$time_iso8601 "$request_method $uri" $status $zkcredit_status';
    upstream chat {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:%%PORT%%;
        zkcredit_scope {SCOPE};
        zkcredit_c_max {C_MAX};
        zkcredit_verification_key {ROOT}/circuits/keys/verification_key.json;
        zkcredit_signing_key %%PREFIX%%/refund.key;
        zkcredit_root_window {ROOT_WINDOW}s;
        access_log %%PREFIX%%/gated.log zkcredit_private;

        # the models list costs a fixed credit; chats are metered by the
        # usage the API reports, as OpenAI's format does, streamed or not
        location = /v1/models {{
            zkcredit on;
            zkcredit_charge 1;
            proxy_pass http://chat;
        }}
        location /v1/ {{
            zkcredit on;
            zkcredit_meter openai;
            zkcredit_token_price * {chat_upstream.PROMPT_PRICE * 1000000} {chat_upstream.COMPLETION_PRICE * 1000000};
            proxy_pass http://chat;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Accept-Encoding "";
            proxy_buffering off;
        }}
        location /zkcredit/refunds/ {{ zkcredit_refunds; access_log off; }}
        location = /zkcredit/leaves.json {{ alias %%PREFIX%%/html/leaves.json; }}
        location = /metrics {{ zkcredit_metrics; access_log off; }}
    }}
""")
        key_path = os.path.join(self.nginx.prefix, "refund.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.leaves_file = os.path.join(self.nginx.prefix, "html", "leaves.json")
        code, output = self.nginx.check_config()
        check(code == 0, "nginx -t accepts the configuration with load_module")
        self.nginx.start()
        self.base = f"http://127.0.0.1:{self.nginx.port}"
        self.watcher = subprocess.Popen(
            self.registry("watch", "--publish", self.leaves_file, "--json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        say(f"gateway {self.base}, chat API 127.0.0.1:{upstream_port}, "
            f"Redis 127.0.0.1:{self.redis.port}\nfiles in {self.nginx.prefix}")

    def stop(self):
        for proc in (self.watcher, self.upstream):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        try:
            if self.nginx is not None:
                self.nginx.stop()
        finally:
            if self.redis is not None:
                self.redis.stop()
            if os.environ.get("ZKC_DEMO_KEEP") != "1":
                shutil.rmtree(self.home, ignore_errors=True)

    def registry(self, *args):
        return [self.registry_tool, "--redis", f"127.0.0.1:{self.redis.port}",
                "--prefix", PREFIX, *args]

    def zkcredit(self, user, *args, expect=0):
        done = subprocess.run([self.client, "--state", self.states[user], "--json", *args],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != expect:
            raise StepFailed(f"zkcredit {args[0]} for {user} exited {done.returncode}, "
                             f"expected {expect}: {done.stderr.strip()}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def balance(self, user):
        return self.zkcredit(user, "balance")

    # -- the journey -------------------------------------------------------

    def challenge(self):
        step("A client without a credential gets 402 and the deployment's parameters")
        resp = self.nginx.request("POST", "/v1/chat/completions", chat_body("hello").encode(),
                                  {"Content-Type": "application/json"})
        challenge = resp.header("WWW-Authenticate") or ""
        say(f"HTTP {resp.status}\nWWW-Authenticate: {challenge}\n"
            f"{resp.body.decode(errors='replace')}")
        check(resp.status == 402 and challenge.startswith("ZKCredit "),
              "402 Payment Required with a ZKCredit challenge")
        check(resp.header("Content-Type") == "application/problem+json",
              "an RFC 9457 problem body")

    def deposits(self):
        step("Two users deposit: the provider records each deposit in the registry")
        for user, deposit in DEPOSITS.items():
            self.states[user] = os.path.join(self.home, user + ".json")
            self.zkcredit(user, "init")
            reg = self.zkcredit(user, "register", "--deposit", str(deposit))
            self.leaves[user] = reg["leaf"]
            done = subprocess.run(self.registry("register", "--id", reg["id"],
                                                "--deposit", str(deposit),
                                                "--publish", self.leaves_file, "--json"),
                                  capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise StepFailed(f"registry refused {user}'s deposit: {done.stderr.strip()}")
            say(f"{user}: paid {deposit} credits out of band; identity H(k) = {reg['id'][:16]}..., "
                f"leaf #{json.loads(done.stdout)['index']}")
        for user in DEPOSITS:
            synced = self.zkcredit(user, "sync", "--leaves", self.base + "/zkcredit/leaves.json")
            say(f"{user}: synced {synced['leaf_count']} leaves from the public list, "
                f"own leaf found, root {synced['root'][:16]}...")
        with open(self.leaves_file) as f:
            published = json.load(f)
        check(len(published["leaves"]) == 2, "the public list holds both leaves and nothing else")

    def paid_request(self, user, text, expect_status=200, stream=False):
        before = self.balance(user)
        out = self.zkcredit(user, "request", "-X", "POST", "-H",
                            "Content-Type: application/json", "-d", chat_body(text, stream),
                            self.base + "/v1/chat/completions")
        check(out["http_status"] == expect_status,
              f"{user}, ticket {out['ticket']}: HTTP {out['http_status']}")
        after = self.balance(user)
        charged = C_MAX - out["refund"]
        return out, charged, before, after

    def paid_requests(self):
        step("Anonymous paid requests: each proves its ticket, pays C_max, gets the rest back")
        questions = [("alice", "What is a zero-knowledge proof?"),
                     ("bob", "Summarise the plot of Hamlet in one line."),
                     ("alice", "How do rate-limiting nullifiers work?"),
                     ("alice", "Why Groth16 over BN254?"),
                     ("bob", "Name three prime numbers."),
                     ("alice", "Is this request linkable to my first one?")]
        for user, text in questions:
            out, charged, before, after = self.paid_request(user, text)
            answer = json.loads(out["body"])
            say(f'{DIM}"{text}" -> "{answer["choices"][0]["message"]["content"][:60]}..."{RESET}\n'
                f"charged {charged} of C_max {C_MAX} ({answer['usage']['total_tokens']} tokens), "
                f"refund {out['refund']}; refunds so far {after['refund_total']}, "
                f"spendable {after['spendable']}")
            check(charged == expected_cost(text), "the charge is the usage the API reported, "
                  "priced by the gateway")
            check(after["spendable"] == before["spendable"] - charged,
                  "the balance went down by the charge only")
        text = "Stream me the answer, token by token."
        out, charged, before, after = self.paid_request("bob", text, stream=True)
        answer, events = streamed_answer(out["body"])
        say(f'{DIM}"{text}" -> streamed "{answer[:60]}..."{RESET}\n'
            f"charged {charged} of C_max {C_MAX} from the stream's usage chunk, "
            f"refund {out['refund']} (in the stream, as a comment line before [DONE])")
        check(charged == expected_cost(text), "the stream is charged by its tokens")
        check(events[-2:] == ["voucher", "data"] and out["body"].rstrip().endswith("data: [DONE]"),
              "the voucher comes just before data: [DONE]")
        check(after["spendable"] == before["spendable"] - charged,
              "the balance went down by the charge only")
        alice = self.balance("alice")
        check(alice["tickets_used"] * C_MAX > DEPOSITS["alice"],
              f"alice spent {alice['tickets_used']} tickets of C_max = {C_MAX} on a deposit of "
              f"{DEPOSITS['alice']}: the last was paid by her earlier refunds")

    def provider_view(self):
        step("What the provider holds: nothing that links requests to each other or to a user")
        with open(os.path.join(self.nginx.prefix, "gated.log")) as f:
            log = f.read()
        say("access log:\n" + log.strip())
        records = {}
        for key in self.redis.command("KEYS", PREFIX + "n:*"):
            flat = self.redis.command("HGETALL", key)
            records[key.decode()] = {flat[i].decode(): flat[i + 1].decode()
                                     for i in range(0, len(flat), 2)}
        sample_key, sample = next(iter(sorted(records.items())))
        say(f"{len(records)} spent tickets in Redis, e.g.\n{sample_key}\n"
            + "\n".join(f"  {field} = {value[:40]}..." for field, value in sorted(sample.items())))
        # the spend's minute ("t") is shared by design, like the evidence's
        values = [v for record in records.values() for field, v in record.items()
                  if field not in ("t", "s")]
        identities = []
        for user in DEPOSITS:
            status = self.zkcredit(user, "status")
            identities.append(status["id"])
            with open(self.states[user]) as f:
                identities.append(json.load(f)["secret"])
        check("127.0.0.1" not in log and not re.search(r"[0-9a-f]{64}|[A-Za-z0-9_-]{100,}", log),
              "the access log holds no address, nullifier or credential")
        check(len(values) == len(set(values)), "no value repeats across the ticket records")
        check(not any(ident in " ".join(values + list(records)) for ident in identities),
              "no identity or secret appears in Redis's ticket records")

    def policy_refusal(self):
        step("A policy violation: the API refuses, the provider keeps the ticket's C_max")
        out, charged, _, _ = self.paid_request("bob", "Tell me something forbidden.",
                                               expect_status=400)
        say(json.loads(out["body"])["error"]["message"])
        check(charged == C_MAX, "no refund: the whole C_max is kept")
        entries = harness.eventually(
            lambda: self.redis.command("XRANGE", PREFIX + "evidence:policy", "-", "+"),
            lambda found: len(found) == 1)
        check(len(entries) == 1 and out["nullifier"].encode() in entries[0][1],
              "one entry on the policy evidence stream, by nullifier only")

    def proxy_journey(self):
        step("An unmodified OpenAI SDK pays through `zkcredit proxy`: only its base URL changed")
        before = self.balance("bob")
        proxy = subprocess.Popen([self.client, "--state", self.states["bob"], "proxy",
                                  "--listen", "127.0.0.1:0", self.base + "/v1"],
                                 stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            ready = proxy.stderr.readline().strip()
            say(ready)
            base_url = ready.partition("set base_url=")[2]
            questions = ["Which SDK is asking?", "And streamed, through the proxy?"]
            spec = {"base_url": base_url, "calls": [
                {"kind": "json", "params": json.loads(chat_body(questions[0]))},
                {"kind": "stream", "params": json.loads(chat_body(questions[1], stream=True))}]}
            done = subprocess.run(["node", os.path.join(ROOT, "tests", "reference",
                                                        "openai_sdk.mjs")],
                                  input=json.dumps(spec), capture_output=True, text=True,
                                  timeout=300, cwd=ROOT)
            if done.returncode != 0:
                raise StepFailed(f"the openai SDK failed: {done.stderr.strip()[-500:]}")
        finally:
            proxy.terminate()
            proxy.communicate(timeout=60)
        as_json, streamed = json.loads(done.stdout)["results"]
        check(as_json["ok"] and streamed["ok"], "the SDK parsed both answers")
        text = as_json["completion"]["choices"][0]["message"]["content"]
        say(f'{DIM}"{questions[0]}" -> "{text[:60]}..."{RESET}')
        check(as_json["refund_header"] is None and "zkcredit-refund" not in done.stdout,
              "the SDK never saw a voucher: the proxy kept both")
        after = self.balance("bob")
        charged = sum(expected_cost(q) for q in questions)
        check(after["tickets_used"] == before["tickets_used"] + 2
              and after["spendable"] == before["spendable"] - charged,
              f"two tickets, charged {charged} by their usage; the refunds are in bob's state")

    def double_spend(self):
        step("A double spend: bob restores an old copy of his state and reuses a ticket")
        backup = self.states["bob"] + ".backup"
        shutil.copy2(self.states["bob"], backup)
        first, _, _, _ = self.paid_request("bob", "First use of this ticket.")
        shutil.copy2(backup, self.states["bob"])
        second = self.zkcredit("bob", "request", "-X", "POST", "-d",
                               chat_body("Second use of the same ticket."),
                               self.base + "/v1/chat/completions", expect=9)
        check(second["ticket"] == first["ticket"] and second["http_status"] == 409,
              f"ticket {first['ticket']} used again for another request: 409 ticket-spent")
        entries = self.redis.command("XRANGE", PREFIX + "evidence:double-spend", "-", "+")
        check(len(entries) == 1, "one entry on the double-spend evidence stream")
        fields = entries[0][1]
        evidence = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}
        with open(self.states["bob"]) as f:
            bob_secret = json.load(f)["secret"]
        say(f"recovered k = {evidence['k']}\nbob's secret = {bob_secret}")
        check(evidence["k"] == bob_secret, "the two shares of one ticket reveal bob's secret key")

        bob_leaf = self.leaves["bob"]

        def published_leaves():
            with open(self.leaves_file) as f:
                return json.load(f)["leaves"]

        leaves = harness.eventually(published_leaves, lambda found: bob_leaf not in found)
        check(bob_leaf not in leaves, "the registry watcher revoked bob's leaf from the tree")
        revocations = self.redis.command("XRANGE", PREFIX + "registry:log", "-", "+")
        say("registry log: " + ", ".join(
            dict(zip(*[iter(f.decode() for f in entry[1])] * 2)).get("action", "?")
            for entry in revocations))
        # exit 6: the own leaf is not in the list (zkcredit raises otherwise)
        self.zkcredit("bob", "sync", "--leaves", self.base + "/zkcredit/leaves.json", expect=6)
        say("bob's client no longer finds his leaf in the public list (exit 6)")
        time.sleep(ROOT_WINDOW + 1)
        refused = self.zkcredit("bob", "request", self.base + "/v1/models", expect=8)
        check(refused["http_status"] == 402,
              "once the old roots leave the window, bob's proofs are refused (402)")
        self.zkcredit("alice", "sync", "--leaves", self.base + "/zkcredit/leaves.json")
        self.paid_request("alice", "Still working for honest users?")

    def metrics(self):
        step("The gateway's metrics (no user labels)")
        text = self.nginx.request("GET", "/metrics").body.decode()
        counts = re.findall(r'^zkcredit_requests_total\{outcome="([a-z_-]+)"\} (\d+)', text, re.M)
        say(", ".join(f"{outcome} {n}" for outcome, n in counts if n != "0"))
        check(dict(counts).get("double_spend") == "1", "one double spend counted")

    def run(self):
        try:
            self.start()
            self.challenge()
            self.deposits()
            self.paid_requests()
            self.provider_view()
            self.policy_refusal()
            self.proxy_journey()
            self.double_spend()
            self.metrics()
        except StepFailed as failure:
            print(f"\n{RED}{BOLD}demo FAILED:{RESET} {failure}", flush=True)
            return 1
        finally:
            self.stop()
        print(f"\n{GREEN}{BOLD}demo done: every step behaved{RESET}")
        return 0


def main():
    build = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    return Demo(build).run()


if __name__ == "__main__":
    sys.exit(main())
