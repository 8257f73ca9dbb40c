"""The gate under load while the store fails: Redis frozen for 3 s in the
middle of a run of clients that follow docs/protocol.md §10, and a burst of
1,200 copies of one credential on the default thread pool. The counts a
provider and its users rely on are asserted, not the timings."""

import concurrent.futures
import json
import os
import re
import signal
import socket
import time
import unittest

import harness
from zkcredit_fixtures import (C_MAX, Upstream, gateway, make_credentials, publish_root,
                               request_spec, voucher_amount)

CAROL = {"k": "333333333333333333", "deposit": "1000000"}
DAVE = {"k": "444444444444444444", "deposit": "1000000"}

CLIENTS = 30
CHARGE = 250  # what the test upstream reports in X-Cost

REQUESTS = [request_spec(0, i, "GET", f"/v1/load/{i}") for i in range(CLIENTS)]
REQUESTS.append(request_spec(1, 0, "GET", "/v1/models"))


def setUpModule():
    global MADE
    MADE = make_credentials([CAROL, DAVE], REQUESTS)


class RuleFollowingClient:
    """Sends one credential and, on a 503 or a lost response, resends the
    byte-identical request until a definite answer (§10 rule 2)."""

    def __init__(self, nginx, target, cred):
        self.nginx = nginx
        self.target = target
        self.cred = cred
        self.answers = []

    def run(self, deadline):
        while time.monotonic() < deadline:
            try:
                resp = self.nginx.request("GET", self.target,
                                          headers={"ZKCredit-Credential": self.cred["header"]},
                                          timeout=10)
            except OSError:
                self.answers.append("lost")
                time.sleep(0.1)
                continue
            self.answers.append(resp.status)
            if resp.status != 503:
                return resp
            time.sleep(0.1)
        return None


class StoreFrozenUnderLoadTest(unittest.TestCase):
    def test_frozen_store_loses_nothing_and_makes_no_double_spender(self):
        redis = harness.Redis().start()
        upstream = Upstream().start()
        nginx = gateway(redis.port, upstream.port).start()
        publish_root(redis, MADE["root_hex"])
        creds = MADE["credentials"][:CLIENTS]
        clients = [RuleFollowingClient(nginx, f"/v1/load/{i}", cred) for i, cred in enumerate(creds)]
        final = {}
        try:
            deadline = time.monotonic() + 120

            def one(i):
                # spread over about 5 s, so that some come before, during and
                # after the freeze
                time.sleep(i * 5.0 / CLIENTS)
                final[i] = clients[i].run(deadline)

            with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                runs = [pool.submit(one, i) for i in range(CLIENTS)]
                time.sleep(1.5)
                os.kill(redis.proc.pid, signal.SIGSTOP)
                time.sleep(3)
                os.kill(redis.proc.pid, signal.SIGCONT)
                for run in runs:
                    run.result()

            served_paths = [path for _, path, _ in upstream.server.seen]
            served = 0
            for i, cred in enumerate(creds):
                resp = final[i]
                self.assertIsNotNone(resp, f"client {i} got no definite answer: {clients[i].answers}")
                path = f"/v1/load/{i}"
                record = harness.eventually(
                    lambda: self.record(redis, cred), lambda rec: "v" in rec, timeout=20)
                # every spent ticket has a fetchable voucher
                self.assertIn("v", record, f"client {i}: spent without a voucher")
                self.assertEqual(record["x"], cred["x_hex"])
                lookup = nginx.request("GET", "/zkcredit/refunds/" + cred["nullifier_hex"])
                self.assertEqual(lookup.status, 200)
                if resp.status == 200:
                    served += 1
                    # served exactly once, and charged
                    self.assertEqual(served_paths.count(path), 1, clients[i].answers)
                    self.assertEqual(voucher_amount(record["v"]), C_MAX - CHARGE)
                else:
                    # not served: refunded in full, never served behind its back
                    self.assertEqual(resp.status, 409, clients[i].answers)
                    self.assertEqual(served_paths.count(path), 0)
                    self.assertEqual(voucher_amount(record["v"]), C_MAX)
            # nothing was served without a record (all served paths are ours)
            self.assertEqual(len(served_paths), served)
            # no client that follows the rules was made a double spender
            self.assertEqual(redis.command("XLEN", "test:evidence:double-spend"), 0)
            self.assertGreater(served, 0)
            print(f"\nfrozen store: {served} served, {CLIENTS - served} refunded in full; "
                  f"answers {[c.answers for c in clients]}")
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()

    @staticmethod
    def record(redis, cred):
        flat = redis.command("HGETALL", "test:n:" + cred["nullifier_hex"])
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}


class BurstTest(unittest.TestCase):
    def test_1200_copies_serve_once_and_the_winner_is_served(self):
        redis = harness.Redis().start()
        upstream = Upstream().start()
        # the default thread pool (32 threads) and the default limits, in
        # two workers
        nginx = gateway(redis.port, upstream.port, nginx_options={"workers": 2}).start()
        publish_root(redis, MADE["root_hex"])
        cred = MADE["credentials"][CLIENTS]
        try:
            def one(_):
                resp = nginx.request("GET", "/v1/models",
                                     headers={"ZKCredit-Credential": cred["header"]}, timeout=120)
                kind = json.loads(resp.body).get("type") if resp.status >= 400 else None
                return resp.status, kind, resp.header("ZKCredit-Refund")

            with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
                answers = list(pool.map(one, range(1200)))
            statuses = [status for status, _, _ in answers]
            self.assertEqual(statuses.count(200), 1, sorted(set(statuses)))
            self.assertEqual(len(upstream.server.seen), 1)
            # every other copy is told the ticket is spent, or that this copy
            # spent nothing; none is told a falsehood about the store
            for status, kind, _ in answers:
                if status == 409:
                    self.assertEqual(kind, "urn:zkcredit:problem:ticket-spent")
                elif status != 200:
                    self.assertEqual((status, kind), (503, "urn:zkcredit:problem:overloaded"))
            [winner] = [voucher for status, _, voucher in answers if status == 200]
            self.assertEqual(voucher_amount(winner), C_MAX - CHARGE)
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()


class BatchVerificationTest(unittest.TestCase):
    """Proofs that wait are verified together; an invalid one among them
    fails no honest proof and spends nothing (docs/operations.md, "Batch
    verification")."""

    SLOW_BODY = 200 * 1024 * 1024

    def test_waiting_proofs_are_batched_and_an_invalid_one_fails_only_itself(self):
        redis = harness.Redis().start()
        upstream = Upstream().start()
        nginx = gateway(redis.port, upstream.port,
                        extra_http="zkcredit_verify_concurrency 1; zkcredit_verify_batch 64;",
                        extra_server="""
        location /slow/ {
            client_max_body_size 300m;
            zkcredit on;
            proxy_pass http://api;
        }""").start()
        publish_root(redis, MADE["root_hex"])
        valid = MADE["credentials"][CLIENTS]          # made for GET /v1/models
        invalid = MADE["credentials"][:16]            # made for other targets
        try:
            # One slow verification (a 200 MB body to hash, whose proof then
            # fails) holds the only slot while the others queue behind it.
            slow = socket.create_connection(("127.0.0.1", nginx.port))
            slow.sendall((f"POST /slow/job HTTP/1.1\r\nHost: x\r\n"
                          f"Content-Length: {self.SLOW_BODY}\r\n"
                          f"ZKCredit-Credential: {MADE['credentials'][20]['header']}\r\n\r\n")
                         .encode())
            chunk = b"\0" * (1 << 20)
            for _ in range(self.SLOW_BODY >> 20):
                slow.sendall(chunk)

            sent = [valid] * 48 + invalid
            sent = [sent[(i * 17) % len(sent)] for i in range(len(sent))]  # interleaved

            def one(cred):
                resp = nginx.request("GET", "/v1/models",
                                     headers={"ZKCredit-Credential": cred["header"]}, timeout=120)
                kind = json.loads(resp.body).get("type") if resp.status >= 400 else None
                return cred is valid, resp.status, kind

            with concurrent.futures.ThreadPoolExecutor(max_workers=len(sent)) as pool:
                answers = list(pool.map(one, sent))
            slow.close()

            honest = [(status, kind) for is_valid, status, kind in answers if is_valid]
            forged = [(status, kind) for is_valid, status, kind in answers if not is_valid]
            self.assertEqual(len(honest), 48)
            self.assertEqual(honest.count((200, None)), 1, set(honest))
            self.assertEqual(honest.count((409, "urn:zkcredit:problem:ticket-spent")), 47,
                             "every honest copy was verified, none refused as invalid")
            self.assertEqual(set(forged), {(402, "urn:zkcredit:problem:credential-invalid")})
            for cred in invalid:
                self.assertEqual(redis.command("EXISTS", "test:n:" + cred["nullifier_hex"]), 0,
                                 "an invalid proof spends nothing")

            metrics = nginx.request("GET", "/metrics").body.decode()
            count = lambda name: int(re.search(rf"^{name} (\d+)$", metrics, re.M).group(1))
            verified = len(sent) + 1
            self.assertGreaterEqual(count("zkcredit_verify_batched_total"), 32, metrics)
            self.assertLess(count("zkcredit_verify_tasks_total"), verified / 2)
            self.assertGreaterEqual(count("zkcredit_verify_batch_failures_total"), 1)
            print(f"batching: {verified} proofs in {count('zkcredit_verify_tasks_total')} tasks, "
                  f"{count('zkcredit_verify_batch_failures_total')} failed batches")
        finally:
            nginx.stop()
            redis.stop()
            upstream.stop()


if __name__ == "__main__":
    unittest.main()
