"""A local chain for the integration tests: a real anvil, the deposit
contract deployed by forge's script (contracts/script/Deploy.s.sol), and
transactions sent with cast, all from the pinned npm packages."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

import harness
from zkcredit_fixtures import C_MAX, REPO_ROOT, SCOPE, Upstream, gateway

FOUNDRY = os.path.join(REPO_ROOT, "node_modules", "@foundry-rs")
ANVIL = os.path.join(FOUNDRY, "anvil-linux-amd64", "bin", "anvil")
FORGE = os.path.join(FOUNDRY, "forge-linux-amd64", "bin", "forge")
CAST = os.path.join(FOUNDRY, "cast-linux-amd64", "bin", "cast")
CONTRACTS = os.path.join(REPO_ROOT, "contracts")

TREASURY = "0x0000000000000000000000000000000000007ea5"
PRICE = 10**9          # wei per credit unit
BOUNTY = 100 * PRICE   # to whoever slashes
CHALLENGE_WINDOW = 3 * 24 * 3600   # seconds a withdrawal can be challenged
DEPOSIT_LIFETIME = 365 * 24 * 3600  # seconds until an unwithdrawn deposit expires
BURN_DELAY = 24 * 3600  # seconds before anyone may force a receipt's burn


class Anvil:
    def __init__(self):
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="zkc-anvil-")
        self.keys = []  # anvil's funded development accounts: public test keys
        self.accounts = []  # their addresses

    def start(self):
        # Automine: each transaction gets its own block; tests mine more
        # blocks to confirm.
        config = os.path.join(self.dir, "accounts.json")
        self.proc = subprocess.Popen([ANVIL, "--port", str(self.port), "--silent",
                                      "--config-out", config],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_for_port(self.port, self.proc)
        # anvil may listen before it has written its accounts out
        written = harness.eventually(lambda: self.read_accounts(config), lambda found: found)
        if not written:
            raise RuntimeError(f"anvil wrote no accounts to {config}")
        self.accounts, self.keys = written
        return self

    @staticmethod
    def read_accounts(config):
        try:
            with open(config) as f:
                written = json.load(f)
            return [a.lower() for a in written["available_accounts"]], written["private_keys"]
        except (OSError, ValueError, KeyError):
            return None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def rpc(self, method, *params):
        request = urllib.request.Request(
            self.url, data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                       "params": list(params)}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            reply = json.load(answer)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def block_number(self):
        return int(self.rpc("eth_blockNumber"), 16)

    def balance(self, address):
        return int(self.rpc("eth_getBalance", address, "latest"), 16)

    def mine(self, blocks):
        self.rpc("anvil_mine", hex(blocks))


class Contracts:
    """Compiles once per test class (into a temporary directory) and deploys
    fresh ether deposit contracts."""

    def __init__(self, anvil):
        self.anvil = anvil
        self.build = tempfile.mkdtemp(prefix="zkc-forge-")

    def cleanup(self):
        shutil.rmtree(self.build, ignore_errors=True)

    def deploy(self, treasury=TREASURY, token=None, price=PRICE, bounty=BOUNTY, scope=SCOPE,
               c_max=C_MAX, key_hash="1", challenge_window=CHALLENGE_WINDOW,
               deposit_lifetime=DEPOSIT_LIFETIME, burn_delay=BURN_DELAY, receipt_signer=None,
               withdrawal_verifier=None):
        """Deploys an EtherCreditDeposits, or a TokenCreditDeposits of
        `token`; returns its address and a block at or before its deployment.
        The smallest deposit is `c_max`: one request. The windows are in
        seconds; the receipt signer is anvil's last account unless given
        (its key is self.anvil.keys[-1]); without `withdrawal_verifier` the
        script deploys the withdrawal circuit's verifier first."""
        first_block = self.anvil.block_number() + 1
        env = dict(os.environ, ZKC_DEPLOYER_KEY=self.anvil.keys[0], ZKC_SCOPE=str(scope),
                   ZKC_C_MAX=str(c_max), ZKC_KEY_HASH=str(key_hash), ZKC_PRICE=str(price),
                   ZKC_MIN_CREDITS=str(c_max), ZKC_SLASH_BOUNTY=str(bounty),
                   ZKC_TREASURY=treasury, ZKC_CHALLENGE_WINDOW=str(challenge_window),
                   ZKC_DEPOSIT_LIFETIME=str(deposit_lifetime), ZKC_BURN_DELAY=str(burn_delay),
                   ZKC_RECEIPT_SIGNER=receipt_signer or self.anvil.accounts[-1])
        if token:
            env["ZKC_TOKEN"] = token
        if withdrawal_verifier:
            env["ZKC_WITHDRAWAL_VERIFIER"] = withdrawal_verifier
        done = subprocess.run(
            [FORGE, "script", "script/Deploy.s.sol", "--rpc-url", self.anvil.url, "--broadcast",
             "--offline", "--json", "--out", os.path.join(self.build, "out"),
             "--cache-path", os.path.join(self.build, "cache")],
            cwd=CONTRACTS, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"forge script failed: {done.stderr[-3000:]}{done.stdout[-3000:]}")
        # The script's return value; the deployment is in a later block.
        result = json.loads(done.stdout.splitlines()[0])
        return result["returns"]["deposits"]["value"].lower(), first_block

    def deploy_token(self):
        """A TestToken (anyone may mint), from the build deploy() made."""
        with open(os.path.join(self.build, "out", "TestToken.sol", "TestToken.json")) as f:
            bytecode = json.load(f)["bytecode"]["object"]
        done = subprocess.run([CAST, "send", "--rpc-url", self.anvil.url, "--private-key",
                               self.anvil.keys[0], "--json", "--create", bytecode],
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)["contractAddress"].lower()

    def send(self, address, signature, *args, account=1, value=None):
        key = self.anvil.keys[account]
        # A plain transfer has no signature.
        call = [signature, *map(str, args)] if signature else []
        command = [CAST, "send", "--rpc-url", self.anvil.url, "--private-key", key, "--json",
                   address, *call]
        if value is not None:
            command[2:2] = ["--value", str(value)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"cast send {signature}: {done.stderr[-2000:]}")
        receipt = json.loads(done.stdout)
        if receipt["status"] != "0x1":
            raise RuntimeError(f"cast send {signature} reverted")
        return receipt

    def call(self, address, signature, *args):
        done = subprocess.run([CAST, "call", "--rpc-url", self.anvil.url, address, signature,
                               *map(str, args)], capture_output=True, text=True, timeout=60,
                              check=True)
        return done.stdout.strip()


class ChainGatewayCase(unittest.TestCase):
    """anvil, Redis, the test upstream and the gateway, started once per
    class (each stopped even when a later one fails to start); every test
    starts from an empty Redis and the chain as it was when the first test
    began (anvil's snapshots: a deployment made in setUpClass is kept)."""

    @classmethod
    def setUpClass(cls):
        cls.anvil = Anvil().start()
        cls.addClassCleanup(cls.anvil.stop)
        cls.contracts = Contracts(cls.anvil)
        cls.addClassCleanup(cls.contracts.cleanup)
        cls.redis = harness.Redis().start()
        cls.addClassCleanup(cls.redis.stop)
        cls.upstream = Upstream().start()
        cls.addClassCleanup(cls.upstream.stop)
        cls.nginx = gateway(cls.redis.port, cls.upstream.port).start()
        cls.addClassCleanup(cls.nginx.stop)
        cls.fresh_chain = None

    def setUp(self):
        self.redis.command("FLUSHALL")
        cls = type(self)
        if cls.fresh_chain is not None:
            # a snapshot is used up by its revert: take the next one
            self.assertTrue(self.anvil.rpc("evm_revert", cls.fresh_chain))
        cls.fresh_chain = self.anvil.rpc("evm_snapshot")
