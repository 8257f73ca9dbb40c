#!/usr/bin/env python3
"""`make demo`: the whole zkcredit journey on loopback, with the real parts.

Starts a local chain (anvil) with the deposit contract, redis-server, the
example chat API (examples/chat_upstream.py), nginx with the zkcredit module
in front of it, and the registry's follower (which mirrors the contract's
tree) and slasher (which claims double spenders' deposits on chain); then
two users deposit on chain, make anonymous paid requests with the zkcredit
CLI, a policy violation is refused, one user double-spends a ticket and
loses the deposit to a slash, one withdraws what it did not spend and the
provider is paid for the rest, and one that withdraws for fewer tickets
than it used is challenged and slashed. Every step checks what it shows; the exit
status is 0 only if every step behaved. Everything started here is stopped
at the end, whatever happens.

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
from chain_fixtures import (  # noqa: E402  (anvil, forge, cast)
    BURN_DELAY, CAST, CHALLENGE_WINDOW, DEPOSIT_LIFETIME, TREASURY, Anvil, Contracts)

SCOPE = 1
C_MAX = 1000
ROOT_WINDOW = 3  # seconds a superseded root stays acceptable; short for the demo
PREFIX = "zkcredit:"
DEPOSITS = {"alice": 3000, "bob": 5000}
ACCOUNTS = {"alice": 1, "bob": 2}  # anvil's development accounts, by user
PROVIDER_ACCOUNT = 9               # the provider's slashing key
PAYOUT_ACCOUNT = 7                 # where alice's withdrawal goes
CAROL_ACCOUNT = 3                  # the user who withdraws from an old backup
PRICE = 10**13                     # wei per credit unit: 3000 credits = 0.03 ether
# To whoever slashes: more than a slash's gas (about 0.9M gas), so that
# anyone, not only the provider, has a reason to slash.
BOUNTY = 500 * PRICE
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
        self.redis = self.upstream = self.nginx = self.anvil = self.contracts = None
        self.follower = self.slasher = None
        self.states = {}
        self.leaves = {}

    # -- the parts ---------------------------------------------------------

    def start(self):
        step("The provider starts a chain, Redis, its chat API, nginx with zkcredit")
        self.anvil = Anvil().start()
        self.contracts = Contracts(self.anvil)
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
        include %%PREFIX%%/deposit_contract.conf;
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
        location = /.well-known/zkcredit {{ zkcredit_discovery; }}
    }}
""")
        self.contract_conf = os.path.join(self.nginx.prefix, "deposit_contract.conf")
        open(self.contract_conf, "w").close()
        key_path = os.path.join(self.nginx.prefix, "refund.key")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.leaves_file = os.path.join(self.nginx.prefix, "html", "leaves.json")
        code, output = self.nginx.check_config()
        check(code == 0, "nginx -t accepts the configuration with load_module")
        self.nginx.start()
        self.base = f"http://127.0.0.1:{self.nginx.port}"
        say(f"gateway {self.base}, chat API 127.0.0.1:{upstream_port}, "
            f"Redis 127.0.0.1:{self.redis.port}, chain {self.anvil.url}\n"
            f"files in {self.nginx.prefix}")
        self.deploy()

    def deploy(self):
        step("The provider deploys its deposit contract and points the gateway at it")
        discovery = json.loads(self.nginx.request("GET", "/.well-known/zkcredit").body)
        key_hash = discovery["deployments"][0]["signing_key"]["key_hash"]
        self.contract, self.deployed_at = self.contracts.deploy(
            price=PRICE, bounty=BOUNTY, scope=SCOPE, c_max=C_MAX, key_hash=int(key_hash, 16))
        say(f"EtherCreditDeposits at {self.contract} (block {self.deployed_at}): {PRICE} wei "
            f"per credit, minimum {C_MAX} credits, slash bounty {BOUNTY} wei; withdrawals can be "
            f"challenged for {CHALLENGE_WINDOW // 3600} h, an unused deposit expires after "
            f"{DEPOSIT_LIFETIME // 86400} days, a policy receipt can be forced to burn after "
            f"{BURN_DELAY // 3600} h")
        for view, expected in (("scope()(uint256)", SCOPE), ("cMax()(uint64)", C_MAX),
                               ("pricePerCredit()(uint256)", PRICE),
                               ("challengeWindow()(uint64)", CHALLENGE_WINDOW),
                               ("depositLifetime()(uint64)", DEPOSIT_LIFETIME)):
            check(int(self.contracts.call(self.contract, view).split()[0]) == expected,
                  f"the contract's {view.split('(')[0]} is {expected}")
        with open(self.contract_conf, "w") as f:
            f.write(f"zkcredit_deposit_contract eip155:31337:{self.contract};\n")
        self.nginx.reload()
        # the old workers answer until they have quit
        announced = harness.eventually(
            lambda: json.loads(self.nginx.request("GET", "/.well-known/zkcredit").body)
            ["deployments"][0].get("deposit_contract", ""),
            lambda contract: contract.endswith(self.contract))
        check(announced == f"eip155:31337:{self.contract}",
              "after a reload, the discovery document names the contract")
        self.provider_key = os.path.join(self.home, "provider-chain.key")
        self.write_key(self.provider_key, PROVIDER_ACCOUNT)
        chain = ["--rpc", self.anvil.url, "--contract", self.contract,
                 "--from-block", str(self.deployed_at)]
        self.follower = subprocess.Popen(
            self.registry("follow", *chain, "--confirmations", "1", "--poll-ms", "200",
                          "--publish", self.leaves_file, "--json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.slasher = subprocess.Popen(
            self.registry("slash", *chain, "--chain-key", self.provider_key, "--poll-ms", "200",
                          "--json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        say("registry: `follow` mirrors the contract's tree (1 confirmation), `slash` claims "
            "double spenders' deposits with the provider's chain key")

    def write_key(self, path, account):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.anvil.keys[account] + "\n")

    def published_leaves(self):
        try:
            with open(self.leaves_file) as f:
                return json.load(f)["leaves"]
        except (OSError, ValueError):
            return []  # not written yet

    def ether(self, address):
        return self.anvil.balance(address)

    def stop(self):
        for proc in (self.follower, self.slasher, self.upstream):
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
            if self.anvil is not None:
                self.anvil.stop()
            if self.contracts is not None:
                self.contracts.cleanup()
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
        step("Two users deposit on chain with zkcredit deposit, from their own keys")
        for user, deposit in DEPOSITS.items():
            self.states[user] = os.path.join(self.home, user + ".json")
            self.zkcredit(user, "init")
            key = os.path.join(self.home, user + "-chain.key")
            self.write_key(key, ACCOUNTS[user])
            made = self.zkcredit(user, "deposit", "--deposit", str(deposit), "--rpc",
                                 self.anvil.url, "--contract", self.contract, "--chain-key", key)
            self.leaves[user] = made["leaf"]
            say(f"{user}: paid {made['paid']} wei for {deposit} credits; identity H(k) = "
                f"{made['id'][:16]}..., leaf #{made['leaf_index']}, "
                f"transaction {made['transaction'][:18]}...")
        check(self.ether(self.contract) == sum(DEPOSITS.values()) * PRICE,
              "the contract holds exactly what the two deposits paid")
        self.anvil.mine(1)
        leaves = harness.eventually(self.published_leaves, lambda found: len(found) == 2)
        check(leaves == [self.leaves["alice"], self.leaves["bob"]],
              "once confirmed, the follower publishes both leaves, in the contract's order")
        root = int(self.contracts.call(self.contract, "currentRoot()(uint256)").split()[0])
        for user in DEPOSITS:
            synced = self.zkcredit(user, "sync", "--leaves", self.base + "/zkcredit/leaves.json")
            say(f"{user}: synced {synced['leaf_count']} leaves from the public list, "
                f"own leaf found, root {synced['root'][:16]}...")
            check(int(synced["root"], 16) == root, f"{user}'s root is the contract's")

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
        served = self.states["bob"] + ".served"
        shutil.copy2(self.states["bob"], served)
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

        provider = self.anvil.accounts[PROVIDER_ACCOUNT]
        before = self.ether(provider)
        held = self.ether(self.contract)
        claimed = json.loads(self.slasher.stdout.readline())
        check(claimed["action"] == "slashed",
              f"the slasher sent slash(k, path) in transaction {claimed['transaction'][:18]}...")
        receipt = json.loads(subprocess.run(
            [CAST, "receipt", "--rpc-url", self.anvil.url, "--json", claimed["transaction"]],
            capture_output=True, text=True, check=True, timeout=60).stdout)
        gas = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
        owed = int(self.contracts.call(self.contract, "treasuryOwed()(uint256)").split()[0])
        say(f"provider's chain key: +{BOUNTY} wei bounty, -{gas} wei gas\n"
            f"treasury owed {owed} wei = bob's {DEPOSITS['bob'] * PRICE} - the bounty")
        check(self.ether(provider) == before + BOUNTY - gas, "the bounty went to the slasher")
        check(BOUNTY > gas, "the bounty pays for the slash's gas")
        check(owed == DEPOSITS["bob"] * PRICE - BOUNTY and
              self.ether(self.contract) == held - BOUNTY,
              "the rest of bob's deposit is the provider's, alice's is untouched")
        treasury_before = self.ether(TREASURY)
        self.contracts.send(self.contract, "payTreasury()", account=3)
        check(self.ether(TREASURY) == treasury_before + owed and
              self.ether(self.contract) == DEPOSITS["alice"] * PRICE,
              "payTreasury() (anyone may call it) sent the provider's share to the treasury")
        self.anvil.mine(1)

        bob_leaf = self.leaves["bob"]
        leaves = harness.eventually(self.published_leaves, lambda found: bob_leaf not in found)
        check(bob_leaf not in leaves, "the follower applied the Slashed event: bob's leaf is 0")
        # exit 6: the own leaf is not in the list (zkcredit raises otherwise)
        self.zkcredit("bob", "sync", "--leaves", self.base + "/zkcredit/leaves.json", expect=6)
        say("bob's client no longer finds his leaf in the public list (exit 6)")
        time.sleep(ROOT_WINDOW + 1)
        # The copy whose chain went on after the first use: the restored one
        # is stuck at the ticket it reused (its next request would need that
        # ticket's voucher).
        shutil.copy2(served, self.states["bob"])
        refused = self.zkcredit("bob", "request", self.base + "/v1/models", expect=8)
        check(refused["http_status"] == 402,
              "once the old roots leave the window, bob's proofs are refused (402)")
        self.zkcredit("alice", "sync", "--leaves", self.base + "/zkcredit/leaves.json")
        self.paid_request("alice", "Still working for honest users?")

    def credits_charged(self):
        text = self.nginx.request("GET", "/metrics").body.decode()
        return int(re.search(r"^zkcredit_credits_charged_total (\d+)$", text, re.M).group(1))

    def chain_options(self, user):
        key = os.path.join(self.home, user + "-chain.key")
        return ["--rpc", self.anvil.url, "--contract", self.contract, "--chain-key", key,
                "--from-block", str(self.deployed_at)]

    def treasury_owed(self):
        return int(self.contracts.call(self.contract, "treasuryOwed()(uint256)").split()[0])

    def warp_past_the_challenge_window(self):
        self.anvil.rpc("evm_increaseTime", CHALLENGE_WINDOW + 1)
        self.anvil.mine(1)
        say(f"(the chain's clock moves {CHALLENGE_WINDOW // 3600} hours on: the challenge "
            "window is over)")

    def withdrawal(self):
        step("Alice withdraws what she did not spend; the provider is paid for the rest")
        before = self.balance("alice")
        payout = self.anvil.accounts[PAYOUT_ACCOUNT]
        paid_before = self.ether(payout)
        owed_before = self.treasury_owed()
        held_before = self.ether(self.contract)
        requested = self.zkcredit("alice", "withdraw", *self.chain_options("alice"),
                                  "--to", payout)
        tickets, refunds = requested["tickets"], requested["refund_total"]
        say(f"alice proves her chain used {tickets} tickets with {refunds} credits of refunds "
            f"and gives the share of ticket {tickets}; {requested['credits_to_recipient']} "
            f"credits go to {payout} after the window")
        check(tickets == before["tickets_used"] and refunds == before["refund_total"],
              "the withdrawal claims exactly the tickets and refunds of her chain")
        self.anvil.mine(1)
        alice_leaf = self.leaves["alice"]
        harness.eventually(self.published_leaves, lambda found: alice_leaf not in found)
        say("the follower cleared her leaf and spent ticket "
            f"{tickets} in Redis with the withdrawal's share: no request can use it now")
        self.warp_past_the_challenge_window()
        self.zkcredit("alice", "withdraw", "--finalize", *self.chain_options("alice"))
        to_alice = self.ether(payout) - paid_before
        to_provider = self.treasury_owed() - owed_before
        charged = tickets * C_MAX - refunds
        say(f"paid to alice's address: {to_alice} wei = ({DEPOSITS['alice']} + {refunds} - "
            f"{tickets} x {C_MAX}) credits; owed to the provider: {to_provider} wei")
        check(to_alice == (DEPOSITS["alice"] - charged) * PRICE,
              "alice gets her deposit plus refunds minus C_max per ticket")
        check(to_provider == charged * PRICE and to_alice + to_provider == DEPOSITS["alice"] * PRICE,
              "the provider gets the rest: every unit of her deposit is accounted for")
        check(self.ether(self.contract) == held_before - to_alice,
              "the contract paid out exactly alice's part")

    def understated_withdrawal(self):
        step("Carol withdraws from an old backup, for fewer tickets than she used: challenged")
        self.states["carol"] = os.path.join(self.home, "carol.json")
        self.zkcredit("carol", "init")
        self.write_key(os.path.join(self.home, "carol-chain.key"), CAROL_ACCOUNT)
        deposit = 2000
        made = self.zkcredit("carol", "deposit", "--deposit", str(deposit),
                             *self.chain_options("carol"))
        self.anvil.mine(1)
        harness.eventually(self.published_leaves, lambda found: made["leaf"] in found)
        self.zkcredit("carol", "sync", "--leaves", self.base + "/zkcredit/leaves.json")
        self.paid_request("carol", "A first question.")
        backup = self.states["carol"] + ".backup"
        shutil.copy2(self.states["carol"], backup)
        self.paid_request("carol", "A second question.")
        shutil.copy2(backup, self.states["carol"])
        owed_before = self.treasury_owed()
        requested = self.zkcredit("carol", "withdraw", *self.chain_options("carol"))
        say(f"carol's old state claims {requested['tickets']} ticket(s); she has used 2")
        self.anvil.mine(1)
        challenged = json.loads(self.slasher.stdout.readline())
        check(challenged["action"] == "challenged",
              "the follower met a request's share of that ticket in Redis; the slasher sent "
              f"challenge(id, x, y) in {challenged['transaction'][:18]}...")
        self.warp_past_the_challenge_window()
        self.zkcredit("carol", "withdraw", "--finalize", *self.chain_options("carol"),
                      expect=13)
        check(self.treasury_owed() - owed_before == deposit * PRICE - BOUNTY,
              "the contract recovered k from the two shares and slashed carol's deposit: "
              "nothing is paid out, the provider keeps all but the bounty")

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
            self.withdrawal()
            self.understated_withdrawal()
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
