"""Runs the real /usr/sbin/nginx with our module, and a real redis-server.

Every instance lives in its own temporary prefix with free loopback ports, so
tests run side by side, as root or not. Stopping an nginx instance fails the
test if its error log holds an [alert], an [emerg] or a sanitizer report.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

NGINX_BINARY = os.environ.get("ZKC_NGINX", "/usr/sbin/nginx")
MODULE_PATH = os.environ.get("ZKC_MODULE", "")
NGINX_PRELOAD = os.environ.get("ZKC_NGINX_PRELOAD", "")
REDIS_BINARY = os.environ.get("ZKC_REDIS", "/usr/bin/redis-server")
KEEP_TEMP = os.environ.get("ZKC_TEST_KEEP", "") == "1"

FORBIDDEN_LOG_LINES = re.compile(
    r"\[alert\]|\[emerg\]|Sanitizer|runtime error:|LeakSanitizer")


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def eventually(probe, done, timeout=10.0):
    """Polls probe() until done(value) holds or the time is up; returns the
    last value. For writes the gateway makes after the response has left,
    such as the stored refund voucher or the policy evidence."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.02)
        value = probe()
    return value


def make_prefix(kind):
    path = tempfile.mkdtemp(prefix=f"zkc-{kind}-")
    # nginx workers drop to "nobody" when started as root: let them in.
    os.chmod(path, 0o755)
    return path


def sanitizer_env():
    env = dict(os.environ)
    if NGINX_PRELOAD:
        env["LD_PRELOAD"] = NGINX_PRELOAD
        # nginx frees its pools, not every allocation, at exit; leaks of our
        # own are caught by the unit tests and by the valgrind run.
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if len(values) == 1 else (values or None)


class Nginx:
    """One nginx master with its workers, configured from an http{} body.

    The body may use %%PORT%% (the main listen port), %%PORT_<name>%% (more
    free ports, fixed per name) and %%PREFIX%% (the instance folder).
    """

    def __init__(self, http_body, main_body="", workers=1, load_module=True,
                 master_process=True, wrapper=(), start_timeout=10.0):
        self.prefix = make_prefix("nginx")
        self.ports = {"": free_port()}
        self.proc = None
        self.wrapper = list(wrapper)
        self.start_timeout = start_timeout
        self.stderr_path = os.path.join(self.prefix, "stderr.log")
        self.error_log = os.path.join(self.prefix, "error.log")
        for sub in ("tmp", "html"):
            os.makedirs(os.path.join(self.prefix, sub))
            os.chmod(os.path.join(self.prefix, sub), 0o777)
        load = f"load_module {MODULE_PATH};\n" if load_module else ""
        conf = (
            f"{load}"
            "daemon off;\n"
            f"master_process {'on' if master_process else 'off'};\n"
            f"worker_processes {workers};\n"
            f"pid {self.prefix}/nginx.pid;\n"
            f"error_log {self.error_log} info;\n"
            f"{main_body}\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    access_log {self.prefix}/access.log;\n"
            f"    client_body_temp_path {self.prefix}/tmp/body;\n"
            f"    proxy_temp_path {self.prefix}/tmp/proxy;\n"
            f"    fastcgi_temp_path {self.prefix}/tmp/fastcgi;\n"
            f"    uwsgi_temp_path {self.prefix}/tmp/uwsgi;\n"
            f"    scgi_temp_path {self.prefix}/tmp/scgi;\n"
            f"{http_body}\n"
            "}\n"
        )
        self.conf_path = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf_path, "w") as f:
            f.write(self.expand(conf))

    @property
    def port(self):
        return self.ports[""]

    def expand(self, text):
        def port_for(match):
            name = match.group(1) or ""
            if name not in self.ports:
                self.ports[name] = free_port()
            return str(self.ports[name])

        text = re.sub(r"%%PORT(?:_(\w+))?%%", port_for, text)
        return text.replace("%%PREFIX%%", self.prefix)

    def command(self, *extra):
        return [NGINX_BINARY, "-p", self.prefix, "-c", self.conf_path,
                "-e", self.error_log, *extra]

    def check_config(self):
        """Runs nginx -t; returns (exit code, combined output)."""
        done = subprocess.run(self.command("-t"), env=sanitizer_env(),
                              capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout + done.stderr

    def discard(self):
        """Removes the prefix of an instance that was never started."""
        shutil.rmtree(self.prefix, ignore_errors=True)

    def start(self):
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(self.wrapper + self.command(), env=sanitizer_env(),
                                         stdout=subprocess.DEVNULL, stderr=err)
        wait_for_port(self.port, self.proc, self.start_timeout)
        return self

    def reload(self):
        """SIGHUP, then wait until the master has started new workers."""
        seen = self.read_error_log().count("reconfiguring")
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10 * max(1, self.start_timeout / 10)
        while time.monotonic() < deadline:
            if self.read_error_log().count("reconfiguring") > seen:
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not reconfigure")

    def read_error_log(self):
        text = ""
        for path in (self.error_log, self.stderr_path):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def stop(self):
        """Graceful stop; raises if the logs show alerts or sanitizer reports."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15 * max(1, self.start_timeout / 10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log = self.read_error_log()
        bad = [line for line in log.splitlines() if FORBIDDEN_LOG_LINES.search(line)]
        if not KEEP_TEMP:
            shutil.rmtree(self.prefix, ignore_errors=True)
        if bad:
            raise AssertionError("nginx logged problems:\n" + "\n".join(bad[:40]))

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, resp.reason, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def raw(self, payload, timeout=5):
        """Sends raw bytes and returns all bytes until the server closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(payload)
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)


class Redis:
    """A real redis-server on a free loopback port, without persistence."""

    def __init__(self):
        self.prefix = make_prefix("redis")
        self.port = free_port()
        self.proc = None
        # more redis-server options, such as ACL users
        self.extra_args = []

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_BINARY, "--bind", "127.0.0.1", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", self.prefix,
             "--logfile", os.path.join(self.prefix, "redis.log"), *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc)
        return self

    def command(self, *args):
        """One command over RESP; returns the decoded reply."""
        return self.command_as([], *args)

    def command_as(self, setup, *args):
        """One command after the setup commands (AUTH, SELECT) on the same
        connection; returns the decoded reply of the last."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            stream = s.makefile("rb")
            for command in [*setup, args]:
                parts = [f"*{len(command)}\r\n".encode()]
                for a in command:
                    data = a if isinstance(a, bytes) else str(a).encode()
                    parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
                s.sendall(b"".join(parts))
                reply = _read_reply(stream)
            return reply

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not KEEP_TEMP:
            shutil.rmtree(self.prefix, ignore_errors=True)


def _read_reply(stream):
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("truncated RESP reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = stream.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(stream) for _ in range(n)]
    raise ConnectionError(f"unknown RESP type {kind!r}")
