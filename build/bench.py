#!/usr/bin/env python3
"""Side-by-side restart benchmark of GracefulHosting, driven by build/bench.sh.

Every system runs a server on 127.0.0.1 under the same load (wrk -t2 -c32 --latency; h2load for
HTTP/2; the GrpcLoad client of bench/ for gRPC) and counts failed requests: socket errors plus non-2xx
answers. The servers are the published HelloGraceful example (JIT, ReadyToRun, ReadyToRun composite,
Native AOT; HTTP, HTTPS and HTTP/2), test/apps/GrpcApp, test/apps/IdentityApp and the Go peers built
from bench/. Each system is measured in pairs, a steady run immediately followed by a run with a
restart signal every second, in BENCH_PAIRS rounds (default 3) through every system; the tables give
the median of the pairs and list every pair. Restart costs are measured without load. Results go to
docs/benchmarks.md and docs/restart-latency.svg.

BENCH_DURATION (default 20) is the length of the single runs; pair runs last min(BENCH_DURATION, 15)
seconds. BENCH_ONLY (comma-separated names; BENCH_ONLY=list prints them) runs only those parts and writes
no docs but the long-lived connections' section. BENCH_STARTED (set by bench.sh) is when the run began.
"""

import ctypes
import asyncio
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "artifacts", "bench")
LOGS = os.path.join(BENCH, "logs")
DOCS = os.path.join(ROOT, "docs")
DURATION = int(os.environ.get("BENCH_DURATION", "20"))
# Pair runs: as long as keeps the whole of bench.sh near 25 minutes on 2 cores.
PAIR_DURATION = min(DURATION, 15)
PAIRS = int(os.environ.get("BENCH_PAIRS", "3"))
RESTART_EVERY = 1.0
# Read by the master: how each new generation starts (nice, batch), until it is ready.
PRIORITY_VARIABLE = "GRACEFUL_RESTART_START_PRIORITY"
SCHED_BATCH = 3
GRPC_CLIENT = os.path.join(BENCH, "grpcload", "GrpcLoad.dll")
GRPC_CALLERS = 32
PID_RE = re.compile(rb"pid=(\d+)")
CERT = os.path.join(BENCH, "cert.pem")
KEY = os.path.join(BENCH, "key.pem")

# Each kind of server: how to start it on a port, and which signal restarts it.
KINDS = {
    "jit": dict(app="app", native=False),
    "aot": dict(app="aot", native=True),
    "r2r": dict(app="r2r", native=False),
    "composite": dict(app="composite", native=True),
    "grpc": dict(app="grpc", grpc=True),
    "tableflip": dict(go=True, signal=signal.SIGHUP),
    "grace": dict(go=True, signal=signal.SIGUSR2),
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get_pid(port, timeout=2.0, https=False):
    if https:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context())
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return None
        match = PID_RE.search(body)
        return int(match.group(1)) if match else None
    finally:
        connection.close()


def wait_for_pid(port, accept=lambda pid: True, timeout=60.0, https=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = get_pid(port, https=https)
            if pid is not None and accept(pid):
                return pid
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.01)
    raise TimeoutError(f"no answer from 127.0.0.1:{port}")


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (the state first), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def proc_stat(pid):
    """(session id, utime + stime + cutime + cstime in clock ticks) of a live process, or None."""
    fields = stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[3]), sum(int(f) for f in fields[11:15])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def reap_orphans():
    """Reaps processes that were re-parented to this one (it is their subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class App:
    """One server process tree: a GracefulHosting master (or a plain app), or a Go peer."""

    def __init__(self, name, port, extra=(), http2=False, kind="jit", https=False, env=None):
        self.name = name
        self.port = port
        self.kind = kind
        self.https = https
        spec = KINDS[kind]
        self.pid_file = os.path.join(LOGS, f"{name}.pid")
        if spec.get("go"):
            self.cwd = os.path.join(BENCH, "go")
            self.args = [os.path.join(self.cwd, kind), "-listen", f"127.0.0.1:{port}", "-pid-file", self.pid_file]
        elif spec.get("grpc"):
            self.cwd = os.path.join(BENCH, spec["app"])
            self.args = ["dotnet", os.path.join(self.cwd, "GrpcApp.dll"),
                         f"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{port}",
                         "--Kestrel:Endpoints:Grpc:Protocols=Http2",
                         "--Logging:LogLevel:Default=Warning",
                         "--Logging:LogLevel:GracefulHosting=Information",
                         *extra]
            http2 = True
        else:
            self.cwd = os.path.join(BENCH, spec["app"])
            program = os.path.join(self.cwd, "HelloGraceful")
            self.args = [program] if spec["native"] else ["dotnet", program + ".dll"]
            scheme = "https" if https else "http"
            self.args += [f"--Kestrel:Endpoints:Http:Url={scheme}://127.0.0.1:{port}",
                          "--Serilog:MinimumLevel:Default=Warning",
                          "--Serilog:MinimumLevel:Override:GracefulHosting=Information",
                          *extra]
            if https:
                self.args += [f"--Kestrel:Endpoints:Http:Certificate:Path={CERT}",
                              f"--Kestrel:Endpoints:Http:Certificate:KeyPath={KEY}"]
            if http2:
                self.args.append("--Kestrel:Endpoints:Http:Protocols=Http2")
        self.signal = spec.get("signal", signal.SIGHUP)
        self.http2 = http2
        self.master = not spec.get("go") and "--GracefulRestart:Enabled=false" not in extra
        # The start priority comes only from the rows that set it, never from the shell that runs the bench.
        self.env = {key: value for key, value in os.environ.items() if key != PRIORITY_VARIABLE} | (env or {})
        self.log_path = os.path.join(LOGS, f"{name}.log")
        # Each App object writes a new log; a naive restart's new process appends to it.
        self.log = open(self.log_path, "wb")
        self.process = None

    @property
    def url(self):
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}/"

    def start(self):
        if os.path.exists(self.pid_file):
            os.remove(self.pid_file)
        # A session of its own, so that every process the server starts can be found and ended by id.
        self.process = subprocess.Popen(self.args, cwd=self.cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=self.env, start_new_session=True)
        return self

    def wait_ready(self):
        """Waits until the first generation serves: an HTTP/1.1 answer, or for HTTP/2 the master's log line."""
        if self.http2:
            return int(wait_for_log(self, r"Child generation 1 \(pid (\d+)\) is ready", 0).group(1))
        return wait_for_pid(self.port, https=self.https)

    def restart_target(self):
        """The pid to signal for a restart: the master, or the Go process that serves now."""
        if KINDS[self.kind].get("go"):
            with open(self.pid_file) as pid_file:
                return int(pid_file.read().strip())
        return self.process.pid

    def restart(self):
        os.kill(self.restart_target(), self.signal)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def members(self):
        """Live processes of this server's session."""
        sid = self.process.pid
        result = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = proc_stat(int(entry))
                if stat and stat[0] == sid:
                    result.append(int(entry))
        return result

    def cpu_seconds(self):
        """CPU time of every process this server has run so far: live ones and those reaped."""
        reap_orphans()
        ticks = sum((proc_stat(pid) or (0, 0))[1] for pid in self.members())
        times = os.times()
        return ticks / os.sysconf("SC_CLK_TCK") + times.children_user + times.children_system

    def kill_tree(self):
        if self.process is None or self.log.closed:
            return
        for pid in self.members() + descendants(self.process.pid) + [self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        reap_orphans()
        self.log.close()


def descendants(pid):
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
                ppid = int(text[text.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
            if ppid == pid:
                children.append(int(entry))
    result = list(children)
    for child in children:
        result += descendants(child)
    return result


class Restarter(threading.Thread):
    """Restarts once a second: SIGHUP to the master, or a naive stop-then-start of a plain app."""

    def __init__(self, app, naive=False, every=RESTART_EVERY):
        super().__init__(daemon=True)
        self.app = app
        self.naive = naive
        self.every = every
        self.stop_event = threading.Event()
        self.count = 0
        self.marks = []

    def run(self):
        while not self.stop_event.wait(self.every):
            self.marks.append(time.monotonic())
            if self.naive:
                self.app.stop()
                self.app.start()
            else:
                self.app.restart()
            self.count += 1

    def finish(self):
        self.stop_event.set()
        self.join()


class Probe(threading.Thread):
    """One keep-alive client that samples latency and the serving pid about every 10 ms."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop_event = threading.Event()
        self.samples = []  # (monotonic time, latency ms or None on failure, pid)

    def run(self):
        connection = None
        while not self.stop_event.is_set():
            began = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read()
                match = PID_RE.search(body)
                self.samples.append((began, (time.monotonic() - began) * 1000, int(match.group(1)) if match else None))
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                self.samples.append((began, None, None))
                if connection:
                    connection.close()
                connection = None
            time.sleep(0.01)

    def finish(self):
        self.stop_event.set()
        self.join()


@dataclass
class Result:
    name: str
    description: str
    duration: int = DURATION
    requests: int = 0
    failed: int = 0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    maximum: float = 0.0
    restarts: int = 0
    notes: str = ""
    over_limit: int = 0                               # Identity rows: requests wrk gave up on
    failures: dict = field(default_factory=dict)      # gRPC rows: failed calls by status
    h2: dict = field(default_factory=dict)            # HTTP/2 rows: h2load's own counts
    ready_ms: list = field(default_factory=list)      # the master's "is ready after" figures of the run
    probe: list = field(default_factory=list)
    marks: list = field(default_factory=list)
    started: float = 0.0


def parse_ms(value, unit):
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    return float(value) * scale


def run_wrk(url, result, options=()):
    output = subprocess.run(["wrk", "-t2", "-c32", f"-d{result.duration}s", "--latency", *options, url],
                            capture_output=True, text=True, check=True).stdout
    with open(os.path.join(LOGS, f"{result.name}.wrk.txt"), "w") as out:
        out.write(output)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s|m)", output)
    result.maximum = parse_ms(latency.group(5), latency.group(6))
    result.p50 = parse_ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", output).groups())
    result.p99 = parse_ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups())
    result.requests = int(re.search(r"(\d+) requests in", output).group(1))
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result.failed = (sum(int(g) for g in errors.groups()) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    if errors:
        result.notes = "socket errors: connect {}, read {}, write {}, timeout {}".format(*errors.groups())
        result.over_limit = int(errors.group(4))


def run_h2load(url, result):
    per_request = os.path.join(LOGS, f"{result.name}.h2load.requests.tsv")
    output = subprocess.run(["h2load", "-c32", "-m10", "-t2", "-D", str(result.duration), "--log-file", per_request, url],
                            capture_output=True, text=True).stdout
    with open(os.path.join(LOGS, f"{result.name}.h2load.txt"), "w") as out:
        out.write(output)
    done = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", output)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    result.requests = int(done.group(3))
    # h2load's failed count already holds its errored streams (and those their timed-out ones) and the
    # answers that were not 2xx or 3xx: it is the count of streams that did not succeed.
    result.failed = int(done.group(5))
    result.h2 = dict(done=int(done.group(3)), failed=int(done.group(5)), errored=int(done.group(6)),
                     timeout=int(done.group(7)), non2xx=int(codes.group(3)) + int(codes.group(4)))
    result.h2["sent_failed"] = sent_failed(per_request)
    result.h2["unsent"] = max(0, result.h2["failed"] - result.h2["sent_failed"])
    # A request still open when h2load's duration ends is counted as not done, not as failed.
    result.rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output).group(1))
    timing = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", output)
    result.maximum = parse_ms(timing.group(3), timing.group(4))
    result.p50 = parse_ms(timing.group(5), timing.group(6))
    result.notes = ("HTTP/2 (h2c) under h2load -c32 -m10; latency column p50 shows the mean, p99 is not reported by h2load; "
                    "h2load's counts: {done} done, {failed} failed, of them {errored} errored ({timeout} timed out) "
                    "and {non2xx} not 2xx or 3xx".format(**result.h2))


def sent_failed(per_request):
    """Streams h2load sent (a start time other than 0 in its per-request log) that did not succeed. The
    rest of its failed count it never sent: nghttp2 drops the requests still queued when a GOAWAY arrives.
    (Requests left unsent when the run's time is up also have the start time 0, but count as not done.)"""
    sent = 0
    if os.path.exists(per_request):
        with open(per_request) as log:
            for line in log:
                fields = line.split("\t")
                if len(fields) >= 2 and fields[0].strip() != "0" and not (fields[1].strip().isdigit() and 200 <= int(fields[1]) < 400):
                    sent += 1
    return sent


def run_grpc_unary(app, result):
    """GRPC_CALLERS concurrent unary callers on one channel of the GrpcLoad client, no retry policy."""
    output = subprocess.run(["dotnet", GRPC_CLIENT, "unary", app.url, str(GRPC_CALLERS), str(result.duration)],
                            capture_output=True, text=True, check=True).stdout
    with open(os.path.join(LOGS, f"{result.name}.grpcload.txt"), "w") as out:
        out.write(output)
    report = json.loads(output.strip().splitlines()[-1])
    result.requests = report["calls"]
    result.failed = report["failed"]
    result.rps = report["callsPerSecond"]
    result.p50 = report["p50Ms"]
    result.p99 = report["p99Ms"]
    result.maximum = report["maxMs"]
    result.failures = report["failures"]
    if result.failures:
        result.notes = "failed calls by status: " + ", ".join(
            f"{status} {count} ({report['details'].get(status, '')!r})" for status, count in sorted(result.failures.items()))


def run_identity(app, result):
    run_wrk(f"http://127.0.0.1:{app.port}/notes", result,
            options=("--timeout", IDENTITY_TIMEOUT, "-H", f"Authorization: Bearer {app.token}"))


# Each kind of load: the function that runs it for result.duration seconds, and whether the latency
# probe runs beside it (every plain-HTTP/1.1 run has it, steady or not, so that runs compare alike).
LOADS = {
    "http": (lambda app, result: run_wrk(app.url, result), True),
    "https": (lambda app, result: run_wrk(app.url, result), False),
    "h2": (lambda app, result: run_h2load(app.url, result), False),
    "grpc": (run_grpc_unary, False),
    "identity": (run_identity, False),
}


def start_server(name, load, options, settle=True):
    """Starts a server for a load and waits until it serves; then, for a steady run, a second more for the
    first generation to finish its start (a run under restarts has its first second of load for that)."""
    server = IdentityServer if load == "identity" else App
    app = server(name, free_port(), **options).start()
    try:
        app.wait_ready()
    except BaseException:
        app.kill_tree()
        raise
    if settle:
        time.sleep(1)
    return app


def measure(app, result, load, restart_every=None, naive=False):
    """One load run on a started server; with restart_every, a restart signal that often during it."""
    run, probed = LOADS[load]
    offset = log_size(app)
    restarter = Restarter(app, naive=naive, every=restart_every) if restart_every else None
    sampler = Probe(app.port) if probed else None
    result.started = time.monotonic()
    for thread in (sampler, restarter):
        if thread:
            thread.start()
    try:
        run(app, result)
    finally:
        for thread in (restarter, sampler):
            if thread:
                thread.finish()
    if restarter:
        result.restarts = restarter.count
        result.marks = restarter.marks
        if app.master:
            # Restarts the master completed, not signals sent; and how long each new generation took to be ready.
            app.log.flush()
            with open(app.log_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
            result.restarts = text.count("Restart complete: generation")
            result.ready_ms = [float(ms) for ms in re.findall(r"Child generation \d+ \(pid \d+\) is ready after (\d+) ms", text)]
    if sampler:
        result.probe = sampler.samples
        if restarter and not app.master and not naive:
            # A Go peer may refuse a restart signal: count the new processes that answered the probe.
            served = len({pid for _, _, pid in sampler.samples if pid}) - 1
            if served != result.restarts:
                result.notes = f"{result.restarts} restart signals, {served} new processes answered; " + result.notes
            result.restarts = served
    ready = f" ready={statistics.median(result.ready_ms):.0f}ms" if result.ready_ms else ""
    print(f"{result.name:20} requests={result.requests} failed={result.failed} rps={result.rps:.0f} "
          f"p50={result.p50:.2f}ms p99={result.p99:.2f}ms max={result.maximum:.1f}ms restarts={result.restarts}{ready}", flush=True)
    return result


def time_to_new_pid(rounds=5):
    """Time from SIGHUP to the first response from the new generation, without load."""
    port = free_port()
    app = App("first-response", port).start()
    times = []
    try:
        pid = wait_for_pid(port)
        time.sleep(1)
        for _ in range(rounds):
            sent = time.monotonic()
            app.restart()
            new = wait_for_pid(port, lambda p: p != pid, timeout=60)
            times.append((time.monotonic() - sent) * 1000)
            pid = new
            time.sleep(1.5)
    finally:
        app.kill_tree()
    return times


@dataclass
class StartCost:
    name: str
    description: str
    cpu_per_restart: float = 0.0
    ready_ms: float = 0.0
    warmup_ms: float = 0.0
    rounds: int = 0
    generations: int = 0          # new generations whose threads were read while they started
    lowered_generations: int = 0  # of them, those with a thread at a lowered priority while starting
    lowered_after_ready: int = 0  # threads of the new generations still at a lowered priority after READY


def log_size(app):
    app.log.flush()
    return os.path.getsize(app.log_path)


def wait_for_log(app, pattern, offset, timeout=60.0):
    """Waits for a line matching pattern written after offset; returns the match."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(app.log_path, "rb") as log:
            log.seek(offset)
            match = regex.search(log.read().decode("utf-8", "replace"))
        if match:
            return match
        time.sleep(0.02)
    raise TimeoutError(f"{app.name}: no log line /{pattern}/")


def lowered_threads(pid, base_nice):
    """(threads, threads at a lowered priority: nice above base_nice or SCHED_BATCH) of a live process."""
    threads = lowered = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tids:
        fields = stat_fields(f"{pid}/task/{tid}")
        if fields is None:
            continue
        threads += 1
        # Fields 19 (nice) and 41 (policy) of proc(5), counted from the state, field 3.
        if int(fields[16]) > base_nice or int(fields[38]) == SCHED_BATCH:
            lowered += 1
    return threads, lowered


def new_go_pid(app, old, attempts=3):
    """Waits for a new Go process to answer after a restart signal. tableflip refuses an upgrade while the
    process it replaced has not exited yet, which on a busy machine can outlast the wait before the signal:
    then the signal is sent again."""
    for attempt in range(1, attempts + 1):
        try:
            return wait_for_pid(app.port, lambda p: p != old, timeout=20)
        except TimeoutError:
            if attempt == attempts:
                raise
            app.restart()


def restart_cost(name, description, kind="jit", extra=(), env=None, rounds=5):
    """CPU-seconds of the whole server per restart without load: new generation's start, warm-up, old one's stop.
    Also reads the priority of each new generation's threads while it starts and once it is ready."""
    port = free_port()
    app = App(name, port, extra, kind=kind, env=env).start()
    go = KINDS[kind].get("go")
    result = StartCost(name, description, rounds=rounds)
    ready, warm = [], []
    try:
        pid = wait_for_pid(port)
        time.sleep(2)
        base_nice = int(stat_fields(app.process.pid)[16])
        before = app.cpu_seconds()
        for generation in range(2, rounds + 2):
            offset = log_size(app)
            app.restart()
            if go:
                pid = new_go_pid(app, pid)
            else:
                child = int(wait_for_log(app, rf"Started child generation {generation} with pid (\d+)", offset).group(1))
                threads, lowered = lowered_threads(child, base_nice)
                match = wait_for_log(app, rf"Child generation {generation} \(pid \d+\) is ready after (\d+) ms", offset)
                ready.append(float(match.group(1)))
                if threads:
                    result.generations += 1
                    result.lowered_generations += 1 if lowered else 0
                result.lowered_after_ready += lowered_threads(child, base_nice)[1]
                wait_for_log(app, rf"Child generation {generation - 1} \(pid \d+\) exited", offset)
                warmed = re.findall(r"Warmed up with \d+ request\(s\) to \S+ over \w+ \(status [^)]*\) in (\d+) ms",
                                    open(app.log_path, "rb").read()[offset:].decode("utf-8", "replace"))
                warm += [float(w) for w in warmed]
            # The old process has stopped: wait until only the serving one is left.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len([p for p in app.members() if p != app.process.pid or go]) > 1:
                time.sleep(0.05)
            time.sleep(0.5)
        result.cpu_per_restart = (app.cpu_seconds() - before) / rounds
        result.ready_ms = statistics.median(ready) if ready else 0.0
        result.warmup_ms = statistics.median(warm) if warm else 0.0
    finally:
        app.kill_tree()
    print(f"{name:20} cpu/restart={result.cpu_per_restart:.3f}s ready={result.ready_ms:.0f}ms warmup={result.warmup_ms:.0f}ms "
          f"lowered-while-starting={result.lowered_generations}/{result.generations} "
          f"lowered-threads-after-ready={result.lowered_after_ready}", flush=True)
    return result


def memory(kind="jit"):
    """Resident memory of master and child after 5 s of load."""
    port = free_port()
    app = App(f"memory-{kind}", port, kind=kind).start()
    try:
        child = wait_for_pid(port)
        subprocess.run(["wrk", "-t2", "-c32", "-d5s", f"http://127.0.0.1:{port}/"], capture_output=True)
        return rss_kib(app.process.pid), rss_kib(child)
    finally:
        app.kill_tree()


def tls_handshake_ms(rounds=200):
    """Mean time of a full TLS handshake (no session resumption) with a steady HTTPS child, one at a time."""
    port = free_port()
    app = App("tls-handshake", port, kind="jit", https=True).start()
    try:
        wait_for_pid(port, https=True)
        context = tls_context()
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw):
                pass
        began = time.perf_counter()
        for _ in range(rounds):
            with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw):
                pass
        elapsed = (time.perf_counter() - began) * 1000 / rounds
        warmup = re.findall(r"Warm-up TLS handshake \((\w+), certificate [^)]*\) took ([\d.]+) ms",
                            open(app.log_path, "rb").read().decode("utf-8", "replace"))
        return elapsed, [float(ms) for _, ms in warmup], (warmup[0][0] if warmup else "?")
    finally:
        app.kill_tree()


H2_RESTARTS = 5
H2_WINDOW = 5


def h2_each_restart(window_off=False):
    """H2_RESTARTS restarts, each met by h2load's own 32 new connections: h2load reconnects no HTTP/2 client
    whose connection the server closed, so under a SIGHUP every second only its first restart has load.
    Returns h2load's counts per restart and whether the restart completed while the load ran."""
    extra = ["--GracefulRestart:Http2GoAwayWindow=00:00:00"] if window_off else []
    app = start_server("h2-each-restart" + ("-window-off" if window_off else ""), "h2", dict(http2=True, extra=extra))
    rounds = []
    try:
        for generation in range(2, H2_RESTARTS + 2):
            offset = log_size(app)
            result = Result(f"{app.name}-{generation}", "", duration=H2_WINDOW)
            # The SIGHUP one second into the load, as Restarter sends its first one.
            signal_later = threading.Timer(RESTART_EVERY, app.restart)
            signal_later.start()
            run_h2load(app.url, result)
            signal_later.join()
            app.log.flush()
            with open(app.log_path, "rb") as log:
                log.seek(offset)
                completed = f"Restart complete: generation {generation} " in log.read().decode("utf-8", "replace")
            # The next one begins once this restart is over and the old generation has gone.
            wait_for_log(app, rf"Child generation {generation - 1} \(pid \d+\) exited", offset)
            rounds.append((result.h2, completed))
            print(f"h2-each-restart-{generation} {result.h2} completed-under-load={completed}", flush=True)
    finally:
        app.kill_tree()
    return rounds


GRPC_STREAMS = 10
GRPC_STREAM_ROUNDS = 3
GRPC_LOG_TIME = r"(?m)^\[(\d\d):(\d\d):(\d\d)\.(\d\d\d)\] "


@dataclass
class StreamRound:
    old_pid: int
    new_pid: int
    sighup_to_ready_ms: float
    endings: list              # the client's record of each stream
    ready_to_end_ms: list
    sighup_to_end_ms: list


def day_ms(epoch_ms):
    """Milliseconds since local midnight, the clock of the apps' log timestamps."""
    moment = time.localtime(epoch_ms / 1000)
    return ((moment.tm_hour * 60 + moment.tm_min) * 60 + moment.tm_sec) * 1000 + epoch_ms % 1000


def since(later_day_ms, earlier_day_ms):
    """later - earlier on the clock of the day, across midnight too."""
    return (later_day_ms - earlier_day_ms + 43_200_000) % 86_400_000 - 43_200_000


def grpc_streams():
    """GRPC_STREAMS Ticks streams through a SIGHUP, GRPC_STREAM_ROUNDS times on one master: how each ended,
    how long after the SIGHUP and after the new generation's READY, and where each reopened."""
    app = start_server("grpc-streams", "grpc", dict(kind="grpc"))
    rounds = []
    client = None
    try:
        old_pid = int(wait_for_log(app, r"Child generation 1 \(pid (\d+)\) is ready", 0).group(1))
        for generation in range(2, GRPC_STREAM_ROUNDS + 2):
            offset = log_size(app)
            with open(os.path.join(LOGS, f"grpc-streams-{generation}.client.txt"), "w") as errors:
                client = subprocess.Popen(["dotnet", GRPC_CLIENT, "streams", app.url, str(GRPC_STREAMS), "60"],
                                          stdout=subprocess.PIPE, stderr=errors, text=True)
                opened = client.stdout.readline()
                if not opened:
                    raise RuntimeError(f"the gRPC stream client exited before its streams were open (code {client.wait()})")
                sent = time.time() * 1000
                app.restart()
                ended = json.loads(client.stdout.readline())
                client.wait(timeout=30)
            ready = wait_for_log(app, GRPC_LOG_TIME + rf".*Child generation {generation} \(pid (\d+)\) is ready after", offset)
            wait_for_log(app, rf"Child generation {generation - 1} \(pid \d+\) exited", offset)
            h, m, s, ms = (int(g) for g in ready.groups()[:4])
            ready_day = ((h * 60 + m) * 60 + s) * 1000 + ms
            streams = ended["streams"]
            finished = [e for e in streams if e["endedAtMs"]]
            rounds.append(StreamRound(
                old_pid, int(ready.group(5)), since(ready_day, day_ms(sent)), streams,
                [since(day_ms(e["endedAtMs"]), ready_day) for e in finished],
                [e["endedAtMs"] - sent for e in finished]))
            old_pid = int(ready.group(5))
            print(f"grpc-streams-{generation} endings={sorted({(e['status'], e['detail']) for e in streams})} "
                  f"ready_to_end_ms={[round(x) for x in rounds[-1].ready_to_end_ms]} "
                  f"reopened_on_new={sum(e['reopenedPid'] == old_pid for e in streams)}/{len(streams)}", flush=True)
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        app.kill_tree()
    return rounds


WS_CLIENTS = 100
WS_DURATION = 30
WS_RESTART_EVERY = 5.0


async def ws_read_frame(reader):
    """One frame from the server (never masked): (opcode, payload)."""
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(length)


def ws_close_frame(code=1000):
    """A masked close frame, as a client must send."""
    mask = os.urandom(4)
    payload = code.to_bytes(2, "big")
    return bytes([0x88, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@dataclass
class WsStats:
    connects: int = 0
    going_away: int = 0                          # close frames with 1001
    other_closes: dict = field(default_factory=dict)  # close code (1006: no close frame) -> count
    refused_handshakes: int = 0


async def ws_client(port, stats, stop):
    """Connects to /ws, waits for the server to close it, answers the close and reconnects at once."""
    while not stop.is_set():
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                stats.refused_handshakes += 1
                continue
            stats.connects += 1
            while True:
                read = asyncio.ensure_future(ws_read_frame(reader))
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if read not in done:
                    read.cancel()
                    writer.write(ws_close_frame())  # the benchmark ends: the client leaves
                    return
                stopping.cancel()
                opcode, payload = read.result()
                if opcode == 8:
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                    if code == 1001:
                        stats.going_away += 1
                    else:
                        stats.other_closes[code] = stats.other_closes.get(code, 0) + 1
                    writer.write(ws_close_frame())
                    await writer.drain()
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            if not stop.is_set():
                stats.other_closes[1006] = stats.other_closes.get(1006, 0) + 1
        finally:
            if writer is not None:
                writer.close()


class WsClients(threading.Thread):
    """WS_CLIENTS reconnecting WebSocket clients on one asyncio loop."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stats = WsStats()
        self.loop = asyncio.new_event_loop()
        self.stop = None

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.stop = asyncio.Event()
        self.loop.run_until_complete(asyncio.gather(*(ws_client(self.port, self.stats, self.stop) for _ in range(WS_CLIENTS))))

    def finish(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.join(timeout=30)


def start_time(pid):
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    return int(text[text.rindex(")") + 2:].split()[19])


class Generations(threading.Thread):
    """Samples the master's live children every 5 ms: the most alive at once, and when each one went."""

    def __init__(self, master_pid):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.stop_event = threading.Event()
        self.most = 0
        self.seen = {}   # pid -> process start time
        self.gone = {}   # pid -> monotonic time it was last seen alive

    def alive(self):
        children = []
        for pid in descendants(self.master_pid):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    text = stat.read()
                if text[text.rindex(")") + 2] not in "ZX":
                    children.append(pid)
            except OSError:
                pass
        return children

    def run(self):
        while not self.stop_event.is_set():
            now = time.monotonic()
            alive = self.alive()
            self.most = max(self.most, len(alive))
            for pid in alive:
                if pid not in self.seen:
                    try:
                        self.seen[pid] = start_time(pid)
                    except OSError:
                        continue
                self.gone[pid] = now
            time.sleep(0.005)

    def serving(self):
        """The newest live child: the generation the next SIGHUP replaces."""
        alive = [pid for pid in self.alive() if pid in self.seen]
        return max(alive, key=lambda pid: self.seen[pid]) if alive else None

    def finish(self):
        self.stop_event.set()
        self.join()


@dataclass
class WsResult:
    http: Result
    stats: WsStats
    exits_ms: list
    drains_ms: list
    most_generations: int
    restarts: int


LOG_TIME = r"^\[(\d\d):(\d\d):(\d\d)\.(\d\d\d) "


def drain_times(log_path):
    """Milliseconds from the master's SIGTERM to a generation's exit, from the master's log lines."""
    def ms(match):
        h, m, sec, milli = (int(g) for g in match.groups()[:4])
        return ((h * 60 + m) * 60 + sec) * 1000 + milli
    stopping, drains = {}, []
    with open(log_path, errors="replace") as log:
        for line in log:
            if match := re.match(LOG_TIME + r".*Stopping child generation (\d+) \(pid \d+\) with SIGTERM", line):
                stopping[match.group(5)] = ms(match)
            elif (match := re.match(LOG_TIME + r".*Child generation (\d+) \(pid \d+\) exited", line)) and match.group(5) in stopping:
                drains.append((ms(match) - stopping.pop(match.group(5))) % 86_400_000)
    return drains


def websocket_scenario():
    """WS_CLIENTS WebSocket clients on /ws plus wrk on /, a SIGHUP every WS_RESTART_EVERY s for WS_DURATION s."""
    port = free_port()
    app = App("ws-restarts", port).start()
    result = Result("ws-restarts", f"{WS_CLIENTS} WebSockets + wrk, SIGHUP every {WS_RESTART_EVERY:.0f} s", duration=WS_DURATION)
    try:
        wait_for_pid(port)
        generations = Generations(app.process.pid)
        generations.start()
        clients = WsClients(port)
        clients.start()
        deadline = time.monotonic() + 30
        while clients.stats.connects < WS_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        marks = []

        def restart_loop(stop):
            while not stop.wait(WS_RESTART_EVERY):
                marks.append((time.monotonic(), generations.serving()))
                app.process.send_signal(signal.SIGHUP)

        stop = threading.Event()
        restarter = threading.Thread(target=restart_loop, args=(stop,), daemon=True)
        restarter.start()
        run_wrk(f"http://127.0.0.1:{port}/", result)
        stop.set()
        restarter.join()
        time.sleep(WS_RESTART_EVERY)  # let the last old generation exit
        clients.finish()
        generations.finish()
        exits = [(generations.gone[old] - sent) * 1000 for sent, old in marks if old in generations.gone]
        app.log.flush()
        ws = WsResult(result, clients.stats, exits, drain_times(os.path.join(LOGS, "ws-restarts.log")), generations.most, len(marks))
    finally:
        app.kill_tree()
    other = sum(ws.stats.other_closes.values())
    print(f"ws-restarts  requests={result.requests} failed={result.failed} connects={ws.stats.connects} "
          f"closes1001={ws.stats.going_away} other={ws.stats.other_closes} exits_ms={[round(e) for e in exits]} drains_ms={ws.drains_ms} "
          f"most_generations={ws.most_generations} restarts={ws.restarts}", flush=True)
    if other or ws.stats.refused_handshakes:
        result.notes = f"WebSocket closes other than 1001 by code: {ws.stats.other_closes}; refused handshakes {ws.stats.refused_handshakes}"
    return ws


WS_HEADING = "## Long-lived connections"


def ws_section(ws):
    r = ws.http
    lines = [
        WS_HEADING,
        "",
        f"{WS_CLIENTS} WebSocket clients on `/ws` (each reconnects as soon as the server closes it) while "
        f"`wrk -t2 -c32 -d{WS_DURATION}s` requests `GET /`, and a SIGHUP every {WS_RESTART_EVERY:.0f} s. "
        "Default settings (`LongLivedGracePeriod` 5 s, `ExitTimeout` 30 s). Old generation exit: from the SIGHUP "
        "until the generation it replaced is gone from /proc, which includes starting the new generation under load; "
        "drain: from the master's SIGTERM to the old generation's exit, from the master's log. Generations: the "
        "master's live children, sampled every 5 ms.",
        "",
        "| scenario | HTTP requests | failed HTTP | WebSocket closes 1001 | other WebSocket closes | SIGHUP to old generation exit, median / max ms | drain, median / max ms | most generations alive | restarts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r.description} | {r.requests} | {r.failed} | {ws.stats.going_away} | {sum(ws.stats.other_closes.values())} | "
        f"{median_max(ws.exits_ms)} | {median_max(ws.drains_ms)} | {ws.most_generations} | {ws.restarts} |",
        "",
        "Without the close frames each old generation would keep its WebSockets, and stay alive, until `ExitTimeout`; "
        "the next restart waits for it.",
        "",
        f"Targets: 0 failed HTTP requests: {r.failed}. 0 WebSocket closes other than 1001: "
        f"{sum(ws.stats.other_closes.values())}. At most two generations alive: {ws.most_generations}.",
    ]
    if r.notes:
        lines += ["", f"Notes: {r.notes}"]
    return lines + [""]


def median_max(values):
    return f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "n/a"


def splice_section(path, section):
    """Replaces the section of an existing benchmarks.md that starts with section[0], its heading
    (or adds it before the plot), leaving every other section as it is."""
    heading = section[0]
    with open(path) as existing:
        lines = existing.read().split("\n")
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ") or lines[i].startswith("![")), len(lines))
        lines[start:end] = section
    else:
        at = next((i for i, line in enumerate(lines) if line.startswith("![")), len(lines))
        lines[at:at] = section
    with open(path, "w") as out:
        out.write("\n".join(lines))


def soak_section_kept(path):
    """The chaos soak's section of the existing benchmarks.md, kept when bench.sh runs without the soak
    (SOAK_DURATION=0); with the soak, build/soak.py replaces it afterwards."""
    if not os.path.exists(path):
        return []
    with open(path) as existing:
        lines = existing.read().split("\n")
    heading = "## Chaos soak"
    if heading not in lines:
        return []
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ") or lines[i].startswith("![")), len(lines))
    return lines[start:end]


def svg_plot(series, path):
    """Latency over time, one panel per series, restart markers as vertical lines; failures in red."""
    width, panel, left, top = 900, 180, 60, 30
    height = top + panel * len(series) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="18" font-size="14">Probe latency (keep-alive client, one request every ~10 ms) while wrk -c32 runs; dashed lines: SIGHUP</text>']
    for index, result in enumerate(series):
        y0 = top + index * panel
        plot_h = panel - 40
        samples = result.probe
        ok = [s for s in samples if s[1] is not None]
        ymax = max(10.0, max((s[1] for s in ok), default=10.0))
        span = result.duration
        scale_x = (width - left - 20) / span
        parts.append(f'<text x="{left}" y="{y0 + 14}">{result.description} (max {ymax:.0f} ms)</text>')
        parts.append(f'<rect x="{left}" y="{y0 + 20}" width="{width - left - 20}" height="{plot_h}" fill="none" stroke="#999"/>')
        for tick in (0, ymax / 2, ymax):
            y = y0 + 20 + plot_h - tick / ymax * plot_h
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.0f}</text>')
        for second in range(0, span + 1, max(1, span // 10)):
            x = left + second * scale_x
            parts.append(f'<text x="{x:.1f}" y="{y0 + 20 + plot_h + 14}" text-anchor="middle">{second}</text>')
        for mark in result.marks:
            x = left + (mark - result.started) * scale_x
            if left <= x <= width - 20:
                parts.append(f'<line x1="{x:.1f}" y1="{y0 + 20}" x2="{x:.1f}" y2="{y0 + 20 + plot_h}" stroke="#888" stroke-dasharray="3,3"/>')
        points = " ".join(f"{left + (t - result.started) * scale_x:.1f},{y0 + 20 + plot_h - ms / ymax * plot_h:.1f}"
                          for t, ms, _ in ok if 0 <= t - result.started <= span)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1"/>')
        for t, ms, _ in samples:
            if ms is None and 0 <= t - result.started <= span:
                x = left + (t - result.started) * scale_x
                parts.append(f'<circle cx="{x:.1f}" cy="{y0 + 20 + plot_h}" r="3" fill="red"/>')
    parts.append(f'<text x="{left}" y="{height - 10}">seconds since load began; y: latency in ms; red dots: failed probe requests; first round of the pairs</text>')
    parts.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(parts))

# The Identity rows: test/apps/IdentityApp (EF Core on SQLite, Identity bearer tokens), an authenticated
# GET /notes that queries the database, a SIGHUP every 3 s, with the warm-up the README recommends
# (a hook and a request) and with only the library's default warm-up.
IDENTITY_RESTART_EVERY = 3.0
IDENTITY_TIMEOUT = "2s"
IDENTITY_USER = {"email": "bench@example.com", "password": "Bench-passw0rd"}


class IdentityServer(App):
    """The published IdentityApp under its master, with a data folder of its own."""

    def __init__(self, name, port, warmup=True):
        super().__init__(name, port)
        self.data = os.path.join(BENCH, f"identity-data-{name}")
        self.cwd = os.path.join(BENCH, "identity")
        self.args = ["dotnet", os.path.join(self.cwd, "IdentityApp.dll"),
                     f"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}",
                     f"--IdentityApp:DataDirectory={self.data}",
                     "--Logging:LogLevel:Default=Warning",
                     "--Logging:LogLevel:GracefulHosting=Information"]
        if not warmup:
            # No hook, and the listed request replaced by the library's default one.
            self.args += ["--IdentityApp:Warmup=false",
                          "--GracefulRestart:Warmup:Requests:0:Path=/.well-known/gracefulhosting/warmup"]
        self.token = None

    def wait_ready(self):
        pid = super().wait_ready()
        self.token = identity_token(self.port)
        return pid

    def kill_tree(self):
        super().kill_tree()
        shutil.rmtree(self.data, ignore_errors=True)


def identity_token(port):
    """Registers the bench user with Identity's endpoints and returns a bearer token for it."""
    body = json.dumps(IDENTITY_USER)
    for path in ("/register", "/login"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"POST {path} answered {response.status}: {answer[:200]!r}")
    return json.loads(answer)["accessToken"]


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, .NET SDK {dotnet}, Linux {os.uname().release}"


@dataclass
class Variant:
    key: str                # its BENCH_ONLY name; its runs under restarts are named after it
    label: str
    options: dict = field(default_factory=dict)


@dataclass
class Group:
    """Servers measured against the same steady runs: each round, one steady run, then each variant's run
    under restarts, the variants in an order that rotates from round to round."""
    key: str                # the BENCH_ONLY name of its steady runs
    label: str
    load: str
    options: dict
    variants: list
    restart_every: float = RESTART_EVERY


NO_MASTER = ["--GracefulRestart:Enabled=false"]

# Every round goes through the groups in this order; plain Kestrel's steady run comes right before the
# JIT steady run, the pair that measures what serving through inherited sockets costs.
GROUPS = [
    Group("plain", "plain Kestrel (Enabled=false), steady", "http", dict(extra=NO_MASTER), []),
    # Warm-up and start priority act only while a new generation starts, so the JIT variants share the
    # JIT steady run of their round.
    Group("jit-steady", "JIT, steady", "http", {}, [
        Variant("jit", "GracefulHosting, JIT, default warm-up (the one line)"),
        Variant("jit-nowarm", "GracefulHosting, JIT, warm-up off (`WarmupPath=\"\"`)", dict(extra=["--GracefulRestart:WarmupPath="])),
        Variant("jit-warmroot", "GracefulHosting, JIT, `WarmupPath=/`", dict(extra=["--GracefulRestart:WarmupPath=/"])),
        Variant("jit-nice", "GracefulHosting, JIT, new generations start at nice 10", dict(env={PRIORITY_VARIABLE: "nice"})),
        Variant("jit-batch", "GracefulHosting, JIT, new generations start under SCHED_BATCH", dict(env={PRIORITY_VARIABLE: "batch"})),
    ]),
    Group("r2r-steady", "JIT + ReadyToRun, steady", "http", dict(kind="r2r"), [
        Variant("r2r", "GracefulHosting, JIT + ReadyToRun", dict(kind="r2r"))]),
    Group("aot-steady", "Native AOT, steady", "http", dict(kind="aot"), [
        Variant("aot", "GracefulHosting, Native AOT", dict(kind="aot"))]),
    Group("https-steady", "HTTPS (JIT), steady", "https", dict(https=True), [
        Variant("https", "GracefulHosting, HTTPS (JIT)", dict(https=True))]),
    Group("tableflip-steady", "cloudflare/tableflip (Go), steady", "http", dict(kind="tableflip"), [
        Variant("tableflip", "cloudflare/tableflip (Go)", dict(kind="tableflip"))]),
    Group("grace-steady", "facebookgo/grace (Go), steady", "http", dict(kind="grace"), [
        Variant("grace", "facebookgo/grace (Go)", dict(kind="grace"))]),
    Group("grpc-steady", "gRPC unary (JIT), steady", "grpc", dict(kind="grpc"), [
        Variant("grpc", "GracefulHosting, gRPC unary calls (JIT, h2c)", dict(kind="grpc"))]),
    Group("identity-steady", "IdentityApp, steady", "identity", dict(warmup=True), [
        Variant("identity-warm", "IdentityApp, SIGHUP every 3 s, documented warm-up (hook + request)", dict(warmup=True)),
        Variant("identity-cold", "IdentityApp, SIGHUP every 3 s, default warm-up only", dict(warmup=False)),
    ], restart_every=IDENTITY_RESTART_EVERY),
]

# The side-by-side table: one row per system, each against its own steady runs.
SIDE_BY_SIDE = ["jit", "jit-nowarm", "jit-warmroot", "jit-nice", "jit-batch", "r2r", "aot", "https", "tableflip", "grace"]

# Single runs of BENCH_DURATION s: (name, description, load, server options, run options, the steady runs
# its ratios are to).
SINGLES = [
    ("h2-steady", "HTTP/2 (JIT), steady state", "h2", dict(http2=True), {}, None),
    ("h2-startfirst", "HTTP/2 (JIT), SIGHUP every 1 s", "h2", dict(http2=True), dict(restart_every=RESTART_EVERY), "h2-steady"),
    ("c-stopfirst", "(c) JIT, SIGHUP every 1 s, StopFirst", "http", dict(extra=["--GracefulRestart:Strategy=StopFirst"]),
     dict(restart_every=RESTART_EVERY), "jit-steady"),
    ("d-naive", "(d) naive stop-and-start, graceful restart off", "http", dict(extra=NO_MASTER),
     dict(restart_every=RESTART_EVERY, naive=True), "jit-steady"),
]

# Restart cost without load: (name, description, options).
COST_PLAN = [
    ("cost-jit", "JIT, default warm-up", {}),
    ("cost-jit-nowarm", "JIT, warm-up off", dict(extra=["--GracefulRestart:WarmupPath="])),
    ("cost-jit-nice", "JIT, new generations start at nice 10", dict(env={PRIORITY_VARIABLE: "nice"})),
    ("cost-jit-batch", "JIT, new generations start under SCHED_BATCH", dict(env={PRIORITY_VARIABLE: "batch"})),
    ("cost-r2r", "JIT + ReadyToRun", dict(kind="r2r")),
    ("cost-composite", "JIT + ReadyToRun composite (self-contained)", dict(kind="composite")),
    ("cost-pgo-off", "JIT, TieredPGO off", dict(env={"DOTNET_TieredPGO": "0"})),
    ("cost-tc-off", "JIT, TieredCompilation off", dict(env={"DOTNET_TieredCompilation": "0"})),
    ("cost-r2r-pgo-off", "JIT + ReadyToRun, TieredPGO off", dict(kind="r2r", env={"DOTNET_TieredPGO": "0"})),
    ("cost-aot", "Native AOT", dict(kind="aot")),
    ("cost-tableflip", "cloudflare/tableflip (Go)", dict(kind="tableflip")),
    ("cost-grace", "facebookgo/grace (Go)", dict(kind="grace")),
]

# Parts that are neither pairs, single runs nor cost rows.
OTHER_NAMES = ["h2-each-restart", "grpc-streams", "ws", "other", "soak"]


def available(load, options):
    """Whether bench.sh published what a row needs."""
    if load == "identity":
        return os.path.isdir(os.path.join(BENCH, "identity"))
    spec = KINDS[options.get("kind", "jit")]
    folder = os.path.join(BENCH, "go" if spec.get("go") else spec["app"])
    return os.path.isdir(folder) and (load != "grpc" or os.path.exists(GRPC_CLIENT))


def rotated(items, by):
    return items[by % len(items):] + items[:by % len(items)] if items else items


def run_rounds(groups):
    """PAIRS rounds through the groups; returns each steady key's and variant key's runs, one per round."""
    runs = {}
    for index in range(PAIRS):
        for group in groups:
            app = start_server(f"{group.key}-{index + 1}", group.load, group.options)
            try:
                steady = Result(f"{group.key}-{index + 1}", group.label, duration=PAIR_DURATION)
                runs.setdefault(group.key, []).append(measure(app, steady, group.load))
                for position, variant in enumerate(rotated(group.variants, index)):
                    # The first variant under restarts goes on in the steady run's server when it is the same one.
                    if position > 0 or variant.options != group.options:
                        app.kill_tree()
                        app = start_server(f"{variant.key}-{index + 1}", group.load, variant.options, settle=False)
                    result = Result(f"{variant.key}-{index + 1}", variant.label, duration=PAIR_DURATION)
                    runs.setdefault(variant.key, []).append(measure(app, result, group.load, restart_every=group.restart_every))
            finally:
                app.kill_tree()
    return runs


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


class Pairs:
    """The pairs of one system: its steady runs and its runs under restarts, round by round."""

    def __init__(self, label, steady, restart):
        self.label = label
        self.pairs = list(zip(steady, restart))

    def ratios(self, attr):
        return [getattr(r, attr) / getattr(s, attr) if getattr(s, attr) else float("nan") for s, r in self.pairs]

    def ratio(self, attr):
        return median(self.ratios(attr))

    def steady(self, attr):
        return median([getattr(s, attr) for s, _ in self.pairs])

    def restart(self, attr):
        return median([getattr(r, attr) for _, r in self.pairs])

    def total(self, attr):
        return sum(getattr(r, attr) for _, r in self.pairs)

    def ready_ms(self):
        """The median over every new generation of the runs under restarts (their figures pooled)."""
        return median([ms for _, r in self.pairs for ms in r.ready_ms])

    def notes(self):
        return [f"pair {i}: {r.notes}" for i, (_, r) in enumerate(self.pairs, 1) if r.notes]


def pair_summaries(groups, runs):
    summary = {}
    for group in groups:
        for variant in group.variants:
            if variant.key in runs and group.key in runs:
                summary[variant.key] = Pairs(variant.label, runs[group.key], runs[variant.key])
    return summary


def number(value, digits=2, suffix=""):
    return "n/a" if value != value else f"{value:.{digits}f}{suffix}"


def ms_or_na(value):
    return "n/a" if value != value else f"{value:.0f}"


def side_by_side_lines(summary):
    lines = [
        "## Side by side",
        "",
        f"Each figure is the median of the {PAIRS} pairs (each pair's figures are under [Every pair](#every-pair)); "
        "failed: the median, and in brackets the total of the runs under restarts. Ready after: from the start of a "
        "new generation to its READY, over every restart of the runs under restarts (median).",
        "",
        "| system | failed requests | requests/s under restarts ÷ steady | p99 under restarts ÷ steady | p99 ms, steady → under restarts | restarts | ready after ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in SIDE_BY_SIDE:
        if key in summary:
            s = summary[key]
            lines.append(f"| {s.label} | {s.restart('failed'):.0f} ({s.total('failed')}) | {number(s.ratio('rps'))} | "
                         f"{number(s.ratio('p99'), suffix='×')} | {s.steady('p99'):.1f} → {s.restart('p99'):.1f} | "
                         f"{s.restart('restarts'):.0f} | {ms_or_na(s.ready_ms())} |")
    return lines + [""]


def every_pair_lines(groups, summary):
    lines = [
        "## Every pair",
        "",
        "Round by round: each system's steady run and its run under restarts. Requests/s and p99 of the steady run → "
        "under restarts, with the ratio; ready after: the median of that run's new generations.",
        "",
        "| system | pair | requests/s | p99 ms | failed | restarts | ready after ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group in groups:
        for variant in group.variants:
            if variant.key not in summary:
                continue
            s = summary[variant.key]
            for index, ((steady, restart), rps, p99) in enumerate(zip(s.pairs, s.ratios("rps"), s.ratios("p99")), 1):
                lines.append(f"| {s.label} | {index} | {steady.rps:.0f} → {restart.rps:.0f} ({number(rps)}) | "
                             f"{steady.p99:.1f} → {restart.p99:.1f} ({number(p99, suffix='×')}) | {restart.failed} | "
                             f"{restart.restarts} | {ms_or_na(median(restart.ready_ms))} |")
    return lines + [""]


PRIORITY_MODES = [("jit", None), ("jit-nice", "nice"), ("jit-batch", "batch")]


def priority_lines(summary, costs):
    if "jit" not in summary or not any(key in summary for key, mode in PRIORITY_MODES if mode):
        return []
    lines = [
        "## Start priority of new generations",
        "",
        f"`{PRIORITY_VARIABLE}` in the master's environment: `nice` starts each new generation at nice 10 and restores "
        "the master's value when it is ready, `batch` runs it under `SCHED_BATCH` until then; unset, it starts like the "
        "master (the default row). The rows under restarts share each round's JIT steady run; figures are medians of the "
        f"{PAIRS} pairs. Ready after under restarts: every new generation of the runs under restarts (median); without load: "
        "the cost rows below (5 restarts). Lowered while starting: new generations of the cost row with a thread at a "
        "nice value above the master's or under `SCHED_BATCH` when the master logged their start; still lowered after "
        "READY: such threads once the master logged the generation ready, summed over the cost row's restarts.",
        "",
        "| start priority | p99 under restarts ÷ steady | p99 ms under restarts | requests/s ÷ steady | failed | ready after ms, under restarts | ready after ms, without load | CPU-seconds per restart | lowered while starting | threads still lowered after READY |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, mode in PRIORITY_MODES:
        if key not in summary:
            continue
        s, cost = summary[key], costs.get(f"cost-{key}")
        no_load = (f"{cost.ready_ms:.0f} | {cost.cpu_per_restart:.3f} | {cost.lowered_generations} of {cost.generations} | "
                   f"{cost.lowered_after_ready}") if cost else "n/a | n/a | n/a | n/a"
        lines.append(f"| {f'`{mode}`' if mode else 'unset (default)'} | {number(s.ratio('p99'), suffix='×')} | "
                     f"{s.restart('p99'):.1f} | {number(s.ratio('rps'))} | {s.total('failed')} | {ms_or_na(s.ready_ms())} | {no_load} |")
    default = summary["jit"]
    lines += ["", "Verdict (keep a mode only if p99 under restarts ÷ steady improves on the default and the time to ready "
              "under restarts at most doubles):", ""]
    for key, mode in PRIORITY_MODES:
        if not mode or key not in summary:
            continue
        s, cost = summary[key], costs.get(f"cost-{key}")
        if cost is None or not cost.generations:
            lines.append(f"- `{mode}`: without its cost row this run cannot tell whether the master applied it; no verdict.")
            continue
        if not cost.lowered_generations:
            lines.append(f"- `{mode}`: no new generation was seen starting at a lowered priority ({cost.generations} read), so "
                         "the master did not apply it in this run and its rows measure the default start; no verdict.")
            continue
        p99, p99_default = s.ratio("p99"), default.ratio("p99")
        ready, ready_default = s.ready_ms(), default.ready_ms()
        improves = p99 < p99_default
        within = ready <= 2 * ready_default
        line = (f"- `{mode}`: p99 under restarts {number(p99, suffix='×')} steady against {number(p99_default, suffix='×')} by "
                f"default ({s.restart('p99'):.1f} against {default.restart('p99'):.1f} ms): "
                f"{'improves' if improves else 'does not improve'}; ready after {ms_or_na(ready)} ms under restarts against "
                f"{ms_or_na(ready_default)} ms ({number(ready / ready_default if ready_default else float('nan'), suffix='×')}): "
                f"{'at most doubles' if within else 'more than doubles'}. **{'Keep' if improves and within else 'Do not keep'}.**")
        if cost.lowered_after_ready:
            line += (f" {cost.lowered_after_ready} thread(s) of its new generations were still at the lowered priority after "
                     "READY: the restore did not reach every thread.")
        lines.append(line)
    root = os.geteuid() == 0
    lines += ["", f"This run ran {'as root' if root else 'without root'}: "
              + ("restoring a lower nice value was allowed." if root else
                 "the kernel lets a process lower a nice value again only with CAP_SYS_NICE or a fitting RLIMIT_NICE."), ""]
    return lines


def grpc_lines(summary, rounds):
    unary = summary.get("grpc")
    lines = []
    if unary:
        statuses = {}
        for _, r in unary.pairs:
            for status, count in r.failures.items():
                statuses[status] = statuses.get(status, 0) + count
        by_status = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())) or "none"
        lines += [
            f"Unary calls: `test/apps/GrpcApp` (JIT, an HTTP/2-only endpoint) under `bench/GrpcLoad`: {GRPC_CALLERS} callers "
            "on one `Grpc.Net.Client` channel, each making `Hello` calls one after another, with no retry policy and "
            f"retries off (`MaxRetryAttempts = 0`); a SIGHUP every 1 s; medians of {PAIRS} pairs as above. Every call the "
            "server did not complete counts as failed, by its status.",
            "",
            "| gRPC unary | failed calls | failed calls by status (all pairs) | calls/s ÷ steady | calls/s, steady → under restarts | p99 ÷ steady | p99 ms, steady → under restarts | restarts | ready after ms |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|",
            f"| SIGHUP every 1 s | {unary.restart('failed'):.0f} ({unary.total('failed')}) | {by_status} | {number(unary.ratio('rps'))} | "
            f"{unary.steady('rps'):.0f} → {unary.restart('rps'):.0f} | {number(unary.ratio('p99'), suffix='×')} | "
            f"{unary.steady('p99'):.1f} → {unary.restart('p99'):.1f} | {unary.restart('restarts'):.0f} | {ms_or_na(unary.ready_ms())} |",
            "",
        ]
    if rounds:
        lines += [
            f"Server streams: {GRPC_STREAMS} `Ticks` streams (a message every 100 ms) open on one channel, then a SIGHUP; "
            f"{len(rounds)} times on one master, with GrpcApp's settings (`LongLivedGracePeriod` 3 s). Each stream is followed "
            "until it ends; its time to end is counted from the SIGHUP and from the new generation's READY (the master's log "
            "line); then the client calls `Ticks` again once and notes which pid answers.",
            "",
            "| restart | SIGHUP → READY ms | how the streams ended | READY → stream end ms, median / max | SIGHUP → stream end ms, median / max | reopened on the new generation |",
            "|---:|---:|---|---:|---:|---:|",
        ]
        for index, r in enumerate(rounds, 1):
            endings = {}
            for e in r.endings:
                label = f"{e['status']}" + (f" ({e['detail']!r})" if e["detail"] else "")
                endings[label] = endings.get(label, 0) + 1
            shown = ", ".join(f"{count} × {label}" for label, count in sorted(endings.items()))
            reopened = sum(e["reopenedPid"] == r.new_pid for e in r.endings)
            lines.append(f"| {index} | {r.sighup_to_ready_ms:.0f} | {shown} | {median_max(r.ready_to_end_ms)} | "
                         f"{median_max(r.sighup_to_end_ms)} | {reopened} of {len(r.endings)} |")
        lines.append("")
    return lines


def h2_lines(singles, each_restart):
    h2 = {r.name: r for r in singles}
    lines = []
    if each_restart:
        lines += [
            f"HTTP/2 restart by restart: {H2_RESTARTS} restarts on one master, each met by h2load's own 32 new "
            f"connections (`h2load -c32 -m10 -t2 -D {H2_WINDOW}`, the SIGHUP 1 s into the load), first with "
            "`Http2GoAwayWindow=0` (before: each draining connection closes as soon as Kestrel finds no stream open), "
            "then with the default window (after). Failed = h2load's failed count; h2load's per-request log splits "
            "them into streams it sent that got no answer and requests it never sent (nghttp2 drops those still "
            "queued when a GOAWAY arrives, and h2load neither retries them nor reconnects).",
            "",
            "| GOAWAY window | failed streams per restart | failed, total | sent, no answer | never sent | restarts not over when the load ended |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for key, label in (("off", "off (before)"), ("on", "default (after)")):
            rounds = each_restart.get(key, [])
            if not rounds:
                continue
            failed = [counts["failed"] for counts, _ in rounds]
            lines.append(f"| {label} | {', '.join(str(f) for f in failed)} | {sum(failed)} | "
                         f"{sum(c.get('sent_failed', 0) for c, _ in rounds)} | {sum(c.get('unsent', 0) for c, _ in rounds)} | "
                         f"{sum(not completed for _, completed in rounds)} |")
        lines.append("")
    if "h2-startfirst" not in h2:
        return lines
    r, steady = h2["h2-startfirst"], h2.get("h2-steady")
    counts = r.h2
    text = (f"HTTP/2 under h2load (`h2load -c32 -m10 -t2 -D {r.duration}`, h2c, `GET /` of HelloGraceful): with a SIGHUP "
            f"every 1 s, {counts['failed']} failed streams of {counts['done']} done over {r.restarts} restarts "
            f"(h2load's failed count, which holds its {counts['errored']} errored, of them {counts['timeout']} timed out, "
            f"and {counts['non2xx']} answers not 2xx or 3xx)")
    text += f"; steady, {steady.failed} failed of {steady.requests}." if steady else "."
    if r.restarts:
        text += (" h2load opens a new connection only for HTTP/1.1 (after `Connection: close`): an HTTP/2 client whose "
                 "connection the server closes stops for the rest of the run, so the streams done under restarts "
                 + (f"({r.rps:.0f}/s against {steady.rps:.0f}/s steady) " if steady else "")
                 + "show how long its clients lasted, not the server's throughput.")
    if counts["failed"]:
        text += (f" Of the failed, h2load sent {counts.get('sent_failed', 0)} and never sent {counts.get('unsent', 0)}; "
                 "it retries neither.")
    return lines + [text, ""]


def singles_lines(singles, runs):
    if not singles:
        return []
    steady_rps = {key: median([r.rps for r in runs.get(key, [])]) for key in ("jit-steady",)}
    steady_rps.update({r.name: r.rps for r in singles})
    lines = [
        "## Single runs",
        "",
        f"One run of {DURATION} s each. Requests/s ÷ steady: HTTP/2 to its steady run; StopFirst and the naive restart to the "
        "median of the JIT steady runs above.",
        "",
        "| scenario | requests | failed | requests/s (÷ steady) | p50 ms | p99 ms | max ms | restarts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r, steady in singles_with_steady(singles):
        base = steady_rps.get(steady, float("nan")) if steady else r.rps
        shown = number(r.rps / base if base else float("nan"))
        lines.append(f"| {r.description} | {r.requests} | {r.failed} | {r.rps:.0f} ({shown}) | "
                     f"{r.p50:.2f} | {r.p99:.2f} | {r.maximum:.1f} | {r.restarts} |")
    return lines + [""]


def singles_with_steady(singles):
    steady_of = {name: steady for name, _, _, _, _, steady in SINGLES}
    return [(r, steady_of[r.name]) for r in singles]


def cost_lines(costs):
    if not costs:
        return []
    lines = [
        "## Cost of one restart, without load",
        "",
        "CPU-seconds of every process of the server (master, the new generation's start and warm-up, the old "
        "generation's stop) per restart, over 5 restarts; ready = from start of the new child to READY (median); "
        "warm-up = the warm-up requests' time inside that (median).",
        "",
        "| variant | CPU-seconds per restart | ready after ms | warm-up ms |",
        "|---|---:|---:|---:|",
    ]
    for c in costs:
        timing = f"{c.ready_ms:.0f} | {c.warmup_ms:.0f}" if c.ready_ms else "n/a | n/a"
        lines.append(f"| {c.description} | {c.cpu_per_restart:.3f} | {timing} |")
    return lines + [""]


def verdict(ok):
    return "met" if ok else "**missed**"


def targets_lines(summary, cost, aot_master_kib):
    lines = ["## Targets", "", f"Medians of the {PAIRS} pairs; failed: all runs under restarts.", ""]
    aot, jit = summary.get("aot"), summary.get("jit")
    if aot:
        aot_cost = cost.get("cost-aot")
        line = (f"- Native AOT: 0 failed ({aot.total('failed')}: {verdict(aot.total('failed') == 0)}); requests/s ≥ 0.90 of "
                f"steady ({number(aot.ratio('rps'))}: {verdict(aot.ratio('rps') >= 0.9)}); p99 ≤ 1.5× steady "
                f"({number(aot.ratio('p99'), suffix='×')}: {verdict(aot.ratio('p99') <= 1.5)})")
        if aot_cost:
            line += f"; CPU per restart ≤ 0.15 s ({aot_cost.cpu_per_restart:.3f} s: {verdict(aot_cost.cpu_per_restart <= 0.15)})"
        if aot_master_kib:
            line += f"; master RSS ≤ 35 MiB ({aot_master_kib / 1024:.1f} MiB: {verdict(aot_master_kib / 1024 <= 35)})"
        lines.append(line + ".")
    if jit:
        lines.append(f"- JIT with the default warm-up: 0 failed ({jit.total('failed')}: {verdict(jit.total('failed') == 0)}); "
                     f"p99 ≤ 3× steady ({number(jit.ratio('p99'), suffix='×')}: {verdict(jit.ratio('p99') <= 3)}); "
                     f"requests/s ≥ 0.6 of steady ({number(jit.ratio('rps'))}: {verdict(jit.ratio('rps') >= 0.6)}).")
    return lines + [""] if len(lines) > 4 else []


def notes_lines(groups, summary, singles):
    notes = []
    for group in groups:
        for variant in group.variants:
            if variant.key in summary:
                notes += [f"- {summary[variant.key].label}, {note}" for note in summary[variant.key].notes()]
    notes += [f"- {r.description}: {r.notes}" for r in singles if r.notes]
    return ["Notes per row:", ""] + notes + [""] if notes else []


def identity_lines(summary):
    rows = [summary[key] for key in ("identity-warm", "identity-cold") if key in summary]
    if not rows:
        return []
    lines = [
        "## A real app: EF Core + Identity",
        "",
        f"`test/apps/IdentityApp` (EF Core on SQLite, ASP.NET Core Identity bearer tokens, JIT): `wrk -t2 -c32 -d{PAIR_DURATION}s "
        f"--timeout {IDENTITY_TIMEOUT} --latency` with a bearer token on `GET /notes`, which queries the database; a SIGHUP "
        f"every {IDENTITY_RESTART_EVERY:.0f} s. Over {IDENTITY_TIMEOUT} = requests wrk gave up on after {IDENTITY_TIMEOUT} "
        f"(its timeout count); the latency figures leave them out. Medians of {PAIRS} pairs; the two warm-ups share each "
        "round's steady run (with the documented warm-up); in brackets the totals of the runs under restarts.",
        "",
        f"| scenario | over {IDENTITY_TIMEOUT} | other failures | requests/s ÷ steady | p99 ÷ steady | p99 ms, steady → under restarts | max ms | restarts | ready after ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        over = [r.over_limit for _, r in s.pairs]
        other = [r.failed - r.over_limit for _, r in s.pairs]
        lines.append(f"| {s.label} | {median(over):.0f} ({sum(over)}) | {median(other):.0f} ({sum(other)}) | "
                     f"{number(s.ratio('rps'))} | {number(s.ratio('p99'), suffix='×')} | {s.steady('p99'):.1f} → "
                     f"{s.restart('p99'):.1f} | {s.restart('maximum'):.0f} | {s.restart('restarts'):.0f} | {ms_or_na(s.ready_ms())} |")
    return lines + [""]


class Phases:
    """How long each part of the run took."""

    def __init__(self):
        self.seconds = {}

    def run(self, name, function, *args):
        began = time.monotonic()
        try:
            return function(*args)
        finally:
            self.seconds[name] = self.seconds.get(name, 0) + time.monotonic() - began
            print(f"-- {name}: {self.seconds[name]:.0f} s", flush=True)

    def text(self):
        return ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in self.seconds.items())


def names():
    return ([g.key for g in GROUPS] + [v.key for g in GROUPS for v in g.variants] + [s[0] for s in SINGLES]
            + [c[0] for c in COST_PLAN] + OTHER_NAMES)


def load_average():
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def main():
    only = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    if only == ["list"]:
        print("\n".join(names()))
        return 0
    unknown = [name for name in only if name not in names()]
    if unknown:
        print(f"BENCH_ONLY: unknown name(s) {', '.join(unknown)}; BENCH_ONLY=list prints them all", file=sys.stderr)
        return 2
    os.makedirs(LOGS, exist_ok=True)
    os.makedirs(DOCS, exist_ok=True)
    # A signal that is ignored stays ignored in every program started from here (as under nohup),
    # and a .NET master then never sees its restart signal; one that is handled is reset to the default.
    for restart_signal in (signal.SIGHUP, signal.SIGUSR2):
        signal.signal(restart_signal, lambda *_: None)
    # Orphans of the Go peers (each restart leaves a new process whose parent exits) come back to
    # this process, so that they can be reaped, counted and ended by id.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    load_at_start = load_average()
    wanted = lambda name: not only or name in only  # noqa: E731
    phases = Phases()

    groups = []
    for group in GROUPS:
        variants = [v for v in group.variants if wanted(v.key) and available(group.load, v.options)]
        if (variants or wanted(group.key)) and available(group.load, group.options):
            groups.append(Group(group.key, group.label, group.load, group.options, variants, group.restart_every))
    runs = phases.run("pairs", run_rounds, groups)
    summary = pair_summaries(groups, runs)

    def single(name, description, load, options, run, _):
        app = start_server(name, load, options, settle="restart_every" not in run)
        try:
            return measure(app, Result(name, description), load, **run)
        finally:
            app.kill_tree()

    singles = phases.run("single runs", lambda: [single(*s) for s in SINGLES if wanted(s[0]) and available(s[2], s[3])])
    costs = phases.run("restart costs", lambda: [restart_cost(name, description, **options) for name, description, options
                                                 in COST_PLAN if wanted(name) and available("http", options)])
    each_restart = {}
    if wanted("h2-each-restart"):
        each_restart["off"] = phases.run("HTTP/2 restart by restart, GOAWAY window off", lambda: h2_each_restart(window_off=True))
        each_restart["on"] = phases.run("HTTP/2 restart by restart", h2_each_restart)
    streams = phases.run("gRPC streams", grpc_streams) if wanted("grpc-streams") and available("grpc", dict(kind="grpc")) else []
    ws = phases.run("long-lived", websocket_scenario) if wanted("ws") else None
    if only:
        if ws is not None:
            # Only the long-lived rows: rewrite just their section of the existing results.
            splice_section(os.path.join(DOCS, "benchmarks.md"), ws_section(ws))
        return 0
    first_response = phases.run("first response", time_to_new_pid)
    rss = phases.run("memory", lambda: {kind: memory(kind) for kind in ("jit", "aot") if available("http", dict(kind=kind))})
    handshake_ms, warmup_handshakes, tls_version = phases.run("TLS", tls_handshake_ms)
    load_at_end = load_average()
    cost = {c.name: c for c in costs}
    overhead_runs = [(jit.rps, plain.rps) for jit, plain in zip(runs.get("jit-steady", []), runs.get("plain", []))]
    started = os.environ.get("BENCH_STARTED")
    took = f"; bench.sh had run {(time.time() - int(started)) / 60:.0f} min when it wrote them (publishes included, the soak after them not)" if started else ""

    lines = [
        "# Benchmarks",
        "",
        f"Measured by `./build/bench.sh` in one run on {machine()}, on {time.strftime('%Y-%m-%d')}{took}.",
        f"Load average (1, 5, 15 min) when the run began: {load_at_start}, when it ended: {load_at_end}; on a quiet "
        "machine the run's own work (the publishes before it, the load generators and the servers during it) keeps it "
        "between about 1 and 4 on these 2 cores; a much higher figure means other work shared the cores and every number "
        "below is lower than the machine can do.",
        f"**Ratios are medians of {PAIRS} pairs.** Each system is measured in pairs, a steady run immediately followed by a run "
        f"with a restart signal every second (IdentityApp: every {IDENTITY_RESTART_EVERY:.0f} s), in {PAIRS} rounds through all "
        f"systems; each figure of the pair tables is the median of the {PAIRS} pairs, and every pair's figures are listed. "
        f"Pair runs last {PAIR_DURATION} s, single runs {DURATION} s. The JIT variants (warm-up, start priority) share each "
        "round's JIT steady run, as the two IdentityApp warm-ups share theirs, since these settings act only while a "
        "generation starts; the order of the variants rotates from round to round.",
        "HTTP/1.1 rows: `wrk -t2 -c32 --latency` on `GET /` of the HelloGraceful example (Release) or of the Go peers in "
        "`bench/`, each answering with its pid. Beside wrk, every plain-HTTP/1.1 run, steady or not, has one probe client "
        "that sends a request about every 10 ms and records its latency (the plot below).",
        "Failed = socket errors (connect, read, write, timeout) + non-2xx responses. Load generator, master, children and "
        "the starting generation share the same 2 cores.",
        f"Time of the parts: {phases.text()}.",
        "",
    ]
    lines += side_by_side_lines(summary)
    lines += every_pair_lines(groups, summary)
    lines += priority_lines(summary, cost)
    protocols = grpc_lines(summary, streams) + h2_lines(singles, each_restart)
    lines += ["## gRPC and HTTP/2", ""] + protocols if protocols else []
    lines += singles_lines(singles, runs)
    lines += cost_lines(costs)
    memory_text = "; ".join(f"{label} master {rss[kind][0] / 1024:.1f} MiB, child {rss[kind][1] / 1024:.1f} MiB"
                            for kind, label in (("jit", "JIT"), ("aot", "Native AOT")) if kind in rss)
    lines += [
        "## Other figures",
        "",
        f"- Resident memory after 5 s of load: {memory_text}.",
        f"- TLS: a full handshake ({tls_version}, RSA 2048 certificate, no session resumption) with a steady child takes "
        f"{handshake_ms:.2f} ms of client and server time; each restart makes every keep-alive client handshake again, "
        f"so with wrk's 32 connections a restart costs about {32 * handshake_ms:.0f} ms of handshakes on top of the new "
        f"generation's start. The first handshake in a new generation (the warm-up's) took "
        f"{statistics.median(warmup_handshakes) if warmup_handshakes else 0:.1f} ms.",
    ]
    if overhead_runs:
        lines.append(
            f"- Throughput through inherited sockets vs plain Kestrel: **{median([i / p for i, p in overhead_runs]):.3f}**, the "
            f"median ratio of the {len(overhead_runs)} rounds' JIT steady run to the plain Kestrel steady run just before it "
            f"({', '.join(f'{i:.0f}/{p:.0f}' for i, p in overhead_runs)} requests/s).")
    lines += [
        f"- Time from SIGHUP to the first response from the new pid (JIT, no load, {len(first_response)} restarts): "
        f"median {statistics.median(first_response):.0f} ms, max {max(first_response):.0f} ms.",
        "",
    ]
    lines += targets_lines(summary, cost, rss["aot"][0] if "aot" in rss else None)
    lines += notes_lines(groups, summary, singles)
    lines += ws_section(ws)
    lines += identity_lines(summary)
    lines += soak_section_kept(os.path.join(DOCS, "benchmarks.md"))
    lines += ["![latency over time](restart-latency.svg)", ""]
    with open(os.path.join(DOCS, "benchmarks.md"), "w") as out:
        out.write("\n".join(lines))
    first_runs = [runs[key][0] for key in ("jit", "jit-nowarm", "aot") if key in runs]
    svg_plot(first_runs + [r for r in singles if r.name == "c-stopfirst"], os.path.join(DOCS, "restart-latency.svg"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
