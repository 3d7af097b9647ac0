#!/usr/bin/env python3
"""Chaos soak of GracefulHosting, the last part of build/bench.sh (BENCH_ONLY=soak runs it alone).

For SOAK_DURATION seconds (default 600) the published HelloGraceful example serves continuous
keep-alive HTTP/1.1 load while a generator seeded from SOAK_SEED (else a random seed, printed)
applies random events: SIGHUP storms, SIGKILL of the serving child, SIGKILL of a child that is still
starting, a broken build then a good one, and SIGTERM of the master followed by a new one. Every
failed request is attributed; master deaths, generations alive at once and the master's descriptors
and memory are recorded. The figures replace the "Chaos soak" section of docs/benchmarks.md.

SOAK_APP names a published folder to use instead of artifacts/bench/app, so that the soak can run
without the publishes of bench.sh; SOAK_PORT fixes the port (else a free one, kept for the run).
"""

import bisect
import ctypes
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from array import array
from dataclasses import dataclass

from bench import BENCH, DOCS, LOGS, PID_RE, free_port, machine, rss_kib, splice_section, stat_fields

APP = os.path.abspath(os.environ.get("SOAK_APP") or os.path.join(BENCH, "app"))
SETTINGS = os.path.join(APP, "appsettings.json")
# A copy of the app's settings for as long as the soak may change them; one left behind by a soak
# that was killed is put back before anything else.
SETTINGS_BACKUP = SETTINGS + ".soak-backup"
DURATION = int(os.environ.get("SOAK_DURATION", "600"))
CONNECTIONS = 12
MEAN_GAP = 3.0            # seconds between two events, on average (exponential)
WARMUP_MS = 1000          # HelloGraceful:WarmupMilliseconds: a start long enough to be hit
SAMPLE_EVERY = 0.05
REQUEST_TIMEOUT = 60      # longer than the longest crash backoff a run reaches, so a queued request waits
FAILURE_PAUSE = 0.1       # a client pauses after a failure, so refusals are counted at a sane rate
STOP_TIMEOUT = 90         # ExitTimeout (30 s) and the master's own stop
READY_TIMEOUT = 120
HEADING = "## Chaos soak"

# Each round of events is one shuffle of this bag, so even a short run applies every kind.
BAG = ["storm", "storm", "kill_serving", "kill_starting", "broken_build", "master_restart"]

EVENTS = {
    "storm": "SIGHUP storm (3 to 6 SIGHUPs within 100 ms)",
    "kill_serving": "SIGKILL of the serving child",
    "kill_starting": "SIGKILL of a starting child (after a SIGHUP, before it is ready)",
    "broken_build": "broken build (`HelloGraceful:ThrowOnStartup=true`, SIGHUP), then the good one back (SIGHUP)",
    "master_restart": "SIGTERM of the master, then a new master on the same port",
}

STARTED_RE = re.compile(r"Started child generation (\d+) with pid (\d+)")
READY_RE = re.compile(r"Child generation (\d+) \(pid (\d+)\) is ready after")
RUNNING_RE = re.compile(r"GracefulHosting master \(pid \d+\) started")
GONE_RE = re.compile(r"generation (\d+) \(pid (\d+)\) (?:exited|failed to start|was still starting)")
COUNTED = {
    "complete": re.compile(r"Restart complete: generation"),
    "rolled_back": re.compile(r"Restart rolled back: generation"),
    "crash_replaced": re.compile(r"Serving child generation \d+ \(pid \d+\) exited unexpectedly"),
    "coalesced": re.compile(r"Restart already pending; request coalesced"),
}


def now():
    return time.monotonic()


def state_ppid_sid(pid):
    """(state, ppid, session id) of a process, or None once it is gone."""
    fields = stat_fields(pid)
    return (fields[0], int(fields[1]), int(fields[3])) if fields else None


def is_live_child(pid, parent):
    fields = state_ppid_sid(pid)
    return fields is not None and fields[0] not in "ZX" and fields[1] == parent


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Master:
    """One master process, and what its log says about its children."""

    def __init__(self, number, port):
        self.number = number
        dll = os.path.join(APP, "HelloGraceful.dll")
        program = ["dotnet", dll] if os.path.exists(dll) else [os.path.join(APP, "HelloGraceful")]
        args = program + [f"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}",
                          "--Serilog:MinimumLevel:Default=Warning",
                          "--Serilog:MinimumLevel:Override:GracefulHosting=Information",
                          f"--HelloGraceful:WarmupMilliseconds={WARMUP_MS}"]
        self.log = open(os.path.join(LOGS, f"soak-master-{number}.log"), "wb")
        self.changed = threading.Condition()
        self.started = {}   # generation -> pid
        self.ready = set()
        self.gone = set()
        self.counts = dict.fromkeys(COUNTED, 0)
        self.ready_at = None
        self.running = False   # the master has logged that it started (sockets and control socket open)
        self.figures = {}   # "start" / "end" -> (descriptors, VmRSS KiB)
        self.exit = None    # (code, planned)
        # A session of its own: every process of this master can be found, and ended, by its id.
        self.process = subprocess.Popen(args, cwd=APP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.pid = self.process.pid
        self.started_at = now()
        self.reader = threading.Thread(target=self.read_log, daemon=True)
        self.reader.start()

    def read_log(self):
        for raw in self.process.stdout:
            self.log.write(raw)
            line = raw.decode("utf-8", "replace")
            with self.changed:
                if match := STARTED_RE.search(line):
                    self.started[int(match.group(1))] = int(match.group(2))
                elif match := READY_RE.search(line):
                    self.ready.add(int(match.group(1)))
                    if self.ready_at is None:
                        self.ready_at = now()
                elif RUNNING_RE.search(line):
                    self.running = True
                elif match := GONE_RE.search(line):
                    self.gone.add(int(match.group(1)))
                for name, pattern in COUNTED.items():
                    if pattern.search(line):
                        self.counts[name] += 1
                self.changed.notify_all()
        self.log.close()

    def wait(self, predicate, timeout):
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def newest_generation(self):
        return max(self.started, default=0)

    def serving(self):
        """The pid of the newest ready generation that is still alive, or None."""
        with self.changed:
            live = [g for g in self.ready if g not in self.gone]
            return self.started[max(live)] if live else None

    def sample(self, when):
        descriptors = fd_count(self.pid)
        if descriptors is not None:
            self.figures[when] = (descriptors, rss_kib(self.pid))


@dataclass
class Failure:
    sent: float
    failed: float
    error: str
    last_pid: int     # the pid of the connection's last response; None on a new connection
    kind: str = ""


class Client(threading.Thread):
    """One keep-alive HTTP/1.1 connection at a time, sending GET / back to back and recording every outcome."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port = port
        self.stop = stop
        self.ok = 0
        self.latencies = array("d")
        self.failures = []
        self.first_ok = None
        self.last_ok = None
        self.oks = array("d")   # completion times of successful requests, for the gaps

    def run(self):
        connection, last_pid = None, None
        while not self.stop.is_set():
            if connection is None:
                connection, last_pid = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT), None
            sent = now()
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise http.client.HTTPException(f"status {response.status}")
                done = now()
                match = PID_RE.search(body)
                last_pid = int(match.group(1)) if match else last_pid
                self.ok += 1
                self.latencies.append((done - sent) * 1000)
                self.oks.append(done)
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(Failure(sent, now(), type(error).__name__, last_pid))
                connection.close()
                connection = None
                self.stop.wait(FAILURE_PAUSE)
        if connection:
            connection.close()


class Sampler(threading.Thread):
    """Every 50 ms: the current master's live children (the most at once), and orphans to reap."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.master = None
        self.sessions = set()
        self.foreign = set()     # pids outside every master's session: not read again
        self.most = 0

    def members(self, cached=True):
        """(pid, state, ppid) of the live processes of every master's session."""
        entries = {int(e) for e in os.listdir("/proc") if e.isdigit()}
        if cached:
            # A pid that went away may come back as one of ours.
            self.foreign &= entries
        result = []
        for pid in entries:
            if cached and pid in self.foreign:
                continue
            fields = state_ppid_sid(pid)
            if fields is None:
                continue
            state, ppid, sid = fields
            if sid in self.sessions:
                result.append((pid, state, ppid))
            elif cached:
                self.foreign.add(pid)
        return result

    def run(self):
        me = os.getpid()
        while not self.stop.wait(SAMPLE_EVERY):
            master = self.master
            alive = 0
            for pid, state, ppid in self.members():
                if master and ppid == master.pid and state not in "ZX":
                    alive += 1
                elif ppid == me and state == "Z" and pid not in self.sessions:
                    # A child of a master that died comes to this process (its subreaper) when it exits.
                    reap(pid)
            self.most = max(self.most, alive)


def reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class Soak:
    def __init__(self, seed, port):
        self.rng = random.Random(seed)
        self.port = port
        self.masters = []
        self.sampler = Sampler()
        self.kills = []          # (pid, time) of every SIGKILL the soak sent
        self.windows = []        # [SIGTERM to the master, the new master's first child ready]
        self.applied = dict.fromkeys(EVENTS, 0)
        self.sighups = 0
        self.missed_starting = 0
        self.no_serving = 0
        self.build_outcomes = []  # (rolled back, good build served) per broken build
        self.deaths = []         # (master number, exit code, planned)
        self.began = None

    @property
    def master(self):
        return self.masters[-1]

    def start_master(self):
        master = Master(len(self.masters) + 1, self.port)
        self.sampler.sessions.add(master.pid)
        self.masters.append(master)
        self.sampler.master = master
        if not master.wait(lambda: master.ready_at is not None or master.process.poll() is not None, READY_TIMEOUT):
            print(f"soak: master {master.number} (pid {master.pid}) has no ready child after {READY_TIMEOUT} s", flush=True)
        # Its own start (the listening sockets, the control socket) ends just after the first child is ready.
        master.wait(lambda: master.running or master.process.poll() is not None, 10)
        master.sample("start")
        return master

    def stop_master(self, master):
        """Planned stop: SIGTERM, and the exit code it ends with."""
        master.sample("end")
        master.process.send_signal(signal.SIGTERM)
        try:
            code = master.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            master.process.kill()
            code = f"still running {STOP_TIMEOUT} s after SIGTERM; killed"
            master.process.wait()
        master.exit = (code, True)
        if code != 0:
            self.deaths.append((master.number, code, True))

    def check_master(self):
        """A master that exited unasked is a death: recorded, and a new one takes its place."""
        master = self.master
        code = master.process.poll()
        if code is None:
            return
        master.exit = (code, False)
        self.deaths.append((master.number, code, False))
        print(f"soak: master {master.number} (pid {master.pid}) exited unasked with code {code}", flush=True)
        self.start_master()

    def idle(self, seconds):
        end = now() + seconds
        while now() < end:
            self.check_master()
            time.sleep(min(0.1, max(0.0, end - now())))

    def sighup(self):
        self.master.process.send_signal(signal.SIGHUP)
        self.sighups += 1

    def kill(self, pid):
        if not is_live_child(pid, self.master.pid):
            return False
        os.kill(pid, signal.SIGKILL)
        self.kills.append((pid, now()))
        print(f"soak: {now() - self.began:6.1f} s SIGKILL to pid {pid}", flush=True)
        return True

    def storm(self):
        for _ in range(self.rng.randint(3, 6)):
            self.sighup()
            time.sleep(self.rng.uniform(0.0, 0.03))

    def kill_serving(self):
        pid = self.master.serving()
        if pid is None or not self.kill(pid):
            self.no_serving += 1

    def kill_starting(self):
        master = self.master
        before = master.newest_generation()
        delay = self.rng.uniform(0.05, 0.8 * WARMUP_MS / 1000)
        self.sighup()
        if not master.wait(lambda: master.newest_generation() > before, READY_TIMEOUT):
            self.missed_starting += 1
            return
        generation = master.newest_generation()
        time.sleep(delay)
        with master.changed:
            starting = generation not in master.ready and generation not in master.gone
        if not (starting and self.kill(master.started[generation])):
            self.missed_starting += 1

    def broken_build(self):
        master = self.master
        with open(SETTINGS_BACKUP, "rb") as backup:
            good = backup.read()
        settings = json.loads(good)
        settings.setdefault("HelloGraceful", {})["ThrowOnStartup"] = True
        write_settings(json.dumps(settings, indent=2).encode())
        rolled_back = master.counts["rolled_back"]
        self.sighup()
        rolled = master.wait(lambda: master.counts["rolled_back"] > rolled_back, READY_TIMEOUT)
        # Broken for a while, perhaps with one more storm that must roll back too.
        self.idle(self.rng.uniform(2.0, 6.0))
        if self.rng.random() < 0.5:
            self.applied["storm"] += 1
            self.storm()
            self.idle(self.rng.uniform(1.0, 3.0))
        write_settings(good)
        complete = master.counts["complete"]
        self.sighup()
        served = master.wait(lambda: master.counts["complete"] > complete, READY_TIMEOUT)
        self.build_outcomes.append((rolled, served))

    def master_restart(self):
        window = [now(), None]
        self.windows.append(window)
        self.stop_master(self.master)
        master = self.start_master()
        window[1] = master.ready_at or now()

    def run(self):
        self.sampler.start()
        self.start_master()
        stop = threading.Event()
        clients = [Client(self.port, stop) for _ in range(CONNECTIONS)]
        load_began = self.began = now()
        for client in clients:
            client.start()
        bag = []
        try:
            while True:
                self.idle(min(10.0, max(0.5, self.rng.expovariate(1 / MEAN_GAP))))
                if now() - load_began >= DURATION:
                    break
                if not bag:
                    bag = list(BAG)
                    self.rng.shuffle(bag)
                event = bag.pop()
                self.check_master()
                print(f"soak: {now() - load_began:6.1f} s {event} (master pid {self.master.pid})", flush=True)
                self.applied[event] += 1
                getattr(self, event)()
        finally:
            stop.set()
            for client in clients:
                client.join()
            load_seconds = now() - load_began
            self.check_master()
            self.stop_master(self.master)
            self.sampler.stop.set()
            self.sampler.join()
        return clients, load_seconds

    def classify(self, failure):
        if any(start <= failure.sent <= (end or float("inf")) for start, end in self.windows):
            return "b"
        # A new connection still queued when the master was stopped: its socket closed with it.
        if failure.last_pid is None and any(failure.sent <= start <= failure.failed for start, _ in self.windows):
            return "b"
        killed = {pid for pid, _ in self.kills}
        if failure.last_pid in killed:
            return "a"
        # A new connection's first request, accepted by a process that was killed while it was in flight.
        if failure.last_pid is None and any(failure.sent <= at <= failure.failed for _, at in self.kills):
            return "a"
        return "c"


def write_settings(content):
    temporary = SETTINGS + ".soak-tmp"
    with open(temporary, "wb") as out:
        out.write(content)
    os.replace(temporary, SETTINGS)


def restore_settings():
    if os.path.exists(SETTINGS_BACKUP):
        os.replace(SETTINGS_BACKUP, SETTINGS)
    if os.path.exists(SETTINGS + ".soak-tmp"):
        os.remove(SETTINGS + ".soak-tmp")


def end_everything(sessions):
    """Kills, by pid, every process still alive in a master's session, and reaps them."""
    sampler = Sampler()
    sampler.sessions = sessions
    for pid, state, _ in sampler.members(cached=False):
        if state not in "ZX":
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = now() + 10
    while now() < deadline and any(state not in "ZX" for _, state, _ in sampler.members(cached=False)):
        time.sleep(0.05)
    for pid, _, ppid in sampler.members(cached=False):
        if ppid == os.getpid():
            reap(pid)


def gaps(times, windows):
    """Per master restart, the longest time without any successful response from its SIGTERM to the
    first response after the new master's first child was ready, in ms."""
    result = []
    for start, end in windows:
        first = max(0, bisect.bisect_right(times, start) - 1)
        last = min(len(times) - 1, bisect.bisect_right(times, end or start))
        span = times[first:last + 1]
        if len(span) > 1:
            result.append(max(b - a for a, b in zip(span, span[1:])) * 1000)
    return result


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def verdict(ok):
    return "met" if ok else "**missed**"


def kib(value):
    return f"{value / 1024:.1f} MiB"


def report(soak, seed, clients, load_seconds):
    failures = [f for c in clients for f in c.failures]
    for failure in failures:
        failure.kind = soak.classify(failure)
    by_kind = {kind: [f for f in failures if f.kind == kind] for kind in "abc"}
    ok = sum(c.ok for c in clients)
    total = ok + len(failures)
    latencies = [v for c in clients for v in c.latencies]
    oks = sorted(t for c in clients for t in c.oks)
    restart_gaps = gaps(oks, soak.windows)
    counts = {name: sum(m.counts[name] for m in soak.masters) for name in COUNTED}
    storms = soak.applied["storm"]
    rolled = sum(1 for r, _ in soak.build_outcomes if r)
    served = sum(1 for _, s in soak.build_outcomes if s)
    starting = soak.applied["kill_starting"]
    outcome = {
        "storm": f"{soak.sighups} SIGHUPs in all (the other events' included); the master coalesced {counts['coalesced']} of them",
        "kill_serving": f"{soak.applied['kill_serving'] - soak.no_serving} killed (no serving child found: {soak.no_serving}); "
                        f"the master replaced a crashed serving child {counts['crash_replaced']} times",
        "kill_starting": f"{starting - soak.missed_starting} killed before ready ({soak.missed_starting} ready first or not started)",
        "broken_build": f"rolled back: {rolled} of {len(soak.build_outcomes)}; the good build then served: {served} of {len(soak.build_outcomes)}",
        "master_restart": "exit codes of the masters it stopped: "
                          + (", ".join(str(m.exit[0]) for m in soak.masters[:-1] if m.exit and m.exit[1]) or "none"),
    }
    ms = statistics.median(latencies) if latencies else 0.0
    lines = [
        HEADING,
        "",
        f"`build/soak.py`, the last part of `./build/bench.sh` (`BENCH_ONLY=soak` runs it alone), runs the published "
        f"HelloGraceful example (JIT, `HelloGraceful:WarmupMilliseconds={WARMUP_MS}` so that a start lasts long enough "
        f"to be hit, every other setting its default) under {CONNECTIONS} keep-alive HTTP/1.1 clients that send `GET /` "
        f"back to back, while a seeded generator applies a random event about every {MEAN_GAP:.0f} s, one at a time, "
        f"each round of events a shuffle of two storms and one of each other kind. Every process the soak starts is ended "
        f"by its pid at the end, and the app's appsettings.json is restored.",
        "",
        f"**These figures come from a {DURATION} s run** (`SOAK_DURATION={DURATION}`; the default is 600 s), seed "
        f"{seed}, on {time.strftime('%Y-%m-%d')}, {machine()}. "
        f"`SOAK_SEED={seed} SOAK_DURATION={DURATION} BENCH_ONLY=soak ./build/bench.sh` repeats its events, in the same "
        "order and with the same pauses between them; how each one lands depends on the machine.",
        "",
        "| event | applied | outcome |",
        "|---|---:|---|",
    ]
    for name, description in EVENTS.items():
        lines.append(f"| {description} | {soak.applied[name]} | {outcome[name]} |")
    lines += [
        "",
        f"Master log over the run: {counts['complete']} restarts complete, {counts['rolled_back']} rolled back, "
        f"{counts['crash_replaced']} serving children replaced after a crash.",
        "",
        "| requests | per second | (a) failed in flight on a killed process | (b) failed while the master restarted | "
        "(c) other failures | p50 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {total} | {total / load_seconds:.0f} | {len(by_kind['a'])} | {len(by_kind['b'])} | {len(by_kind['c'])} | "
        f"{ms:.2f} | {percentile(latencies, 0.99):.1f} | {max(latencies, default=0):.0f} |",
        "",
        "- (a): the connection's last response came from a process the soak killed with SIGKILL, or it was a new "
        "connection whose first request was in flight when the soak sent a SIGKILL (a starting child that already accepts, "
        "or the serving one). Requests that queued while no child served (a crash backoff) wait and count as served; "
        "they make the maximum latency.",
        "- (b): sent between the SIGTERM to the master and the new master's first ready child, or a new connection's "
        "first request still waiting when the SIGTERM was sent (queued while no child accepted). Without systemd's socket "
        "activation nothing listens between two masters: the old one closes its sockets when its children have drained, the "
        "new one binds them when it starts, and in between connections are refused (each client pauses "
        f"{FAILURE_PAUSE * 1000:.0f} ms after a failure, so the count follows that pace). Longest time without any "
        f"successful response per master restart: {', '.join(f'{g:.0f} ms' for g in restart_gaps) or 'n/a'}.",
        "",
        "| master | pid | descriptors at start → end | VmRSS at start → end | exit |",
        "|---:|---:|---:|---:|---|",
    ]
    for master in soak.masters:
        start, end = master.figures.get("start"), master.figures.get("end")
        fds = f"{start[0] if start else 'n/a'} → {end[0] if end else 'n/a'}"
        rss = f"{kib(start[1]) if start else 'n/a'} → {kib(end[1]) if end else 'n/a'}"
        code, planned = master.exit or ("n/a", False)
        lines.append(f"| {master.number} | {master.pid} | {fds} | {rss} | {code}{'' if planned else ', not asked to stop'} |")
    lines += [
        "",
        "Start: once the master has logged that it started (its first child ready, its sockets and control socket open); "
        "end: just before the soak's SIGTERM, when a restart may be under way.",
        "",
        f"Targets: (c) other failures 0: {len(by_kind['c'])}, {verdict(not by_kind['c'])}. Master deaths (an exit the soak "
        f"did not ask for, or a non-zero code) 0: {len(soak.deaths)}, {verdict(not soak.deaths)}. At most two generations "
        f"alive at once (the master's live children, sampled every {SAMPLE_EVERY * 1000:.0f} ms): {soak.sampler.most}, "
        f"{verdict(soak.sampler.most <= 2)}.",
    ]
    for failure in by_kind["c"]:
        print(f"soak: other failure: {failure.error}, sent at {failure.sent - soak.began:.3f} s, failed at "
              f"{failure.failed - soak.began:.3f} s, last pid {failure.last_pid}", flush=True)
    if by_kind["c"]:
        first = by_kind["c"][:5]
        lines += ["", "First other failures: " + "; ".join(
            f"{f.error} at {f.failed - soak.began:.1f} s ({'new connection' if f.last_pid is None else f'last pid {f.last_pid}'})"
            for f in first) + "."]
    return lines + [""]


def main():
    os.makedirs(LOGS, exist_ok=True)
    if not os.path.exists(SETTINGS):
        print(f"soak: no published app in {APP} (run ./build/bench.sh, or set SOAK_APP)", file=sys.stderr)
        return 1
    seed = int(os.environ["SOAK_SEED"]) if os.environ.get("SOAK_SEED") else random.SystemRandom().randrange(2**32)
    port = int(os.environ.get("SOAK_PORT") or free_port())
    print(f"soak: seed {seed}, {DURATION} s, port {port}, app {APP}", flush=True)
    for name in os.listdir(LOGS):
        if name.startswith("soak-master-"):
            os.remove(os.path.join(LOGS, name))
    # A restart signal ignored here would stay ignored in the masters; a handled one is reset for them.
    signal.signal(signal.SIGHUP, lambda *_: None)
    # SIGTERM ends the soak like Ctrl-C: through the clean-up below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Children of a master that dies come back to this process, to be reaped and ended by id.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    restore_settings()
    with open(SETTINGS, "rb") as original, open(SETTINGS_BACKUP, "wb") as backup:
        backup.write(original.read())
    soak = Soak(seed, port)
    try:
        clients, load_seconds = soak.run()
    finally:
        restore_settings()
        end_everything({m.pid for m in soak.masters})
    lines = report(soak, seed, clients, load_seconds)
    splice_section(os.path.join(DOCS, "benchmarks.md"), lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
