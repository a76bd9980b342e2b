"""A deployment on this machine: throw-away databases, ``inuk serve`` and ``inuk worker``
processes, and the test's own TCP proxy in front of them (or of PostgreSQL).

Everything started here is stopped by the context managers that start it,
whatever way the test ends; the databases are dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
FINAL = {"applied", "rejected", "refused", "failed"}
#: Seconds between looks at a receipt.
POLL = 1.0


# --- databases ---------------------------------------------------------------------


def postgres_url() -> str | None:
    """The run's PostgreSQL statistics database URL, or None on a SQLite run."""
    url = os.environ.get("INUK_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    userinfo = netloc[0] + "@" if netloc[1] else ""
    host = (parts.hostname or "127.0.0.1").replace("localhost", "127.0.0.1")
    return urlunsplit((parts.scheme, f"{userinfo}{host}:{port}", parts.path, "", ""))


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


@dataclass
class Databases:
    """A pair of fresh PostgreSQL databases named after the run's own, with a suffix."""

    default: str
    vault: str

    @property
    def urls(self) -> dict[str, str]:
        return {"INUK_DATABASE_URL": self.default, "INUK_VAULT_DATABASE_URL": self.vault}

    def through(self, port: int) -> dict[str, str]:
        """The URLs by way of a proxy listening on ``port``."""
        return {name: _with_port(url, port) for name, url in self.urls.items()}


@contextlib.contextmanager
def databases(suffix: str, *, copy_of: Databases | None = None) -> Iterator[Databases]:
    """Fresh databases, or copies of ``copy_of`` (which no process may be connected to)."""
    base = postgres_url()
    assert base is not None
    stem = (urlsplit(base).path.lstrip("/") or "inuk").removeprefix("test_")
    tail = f"_{suffix}_{os.getpid()}"
    names = (stem + tail, stem.replace("inuk", "inuk_vault", 1) + tail)
    if names[1] == names[0]:
        names = (names[0], names[0] + "_vault")
    templates = (
        [urlsplit(copy_of.default).path[1:], urlsplit(copy_of.vault).path[1:]]
        if copy_of
        else [None, None]
    )
    for name, template in zip(names, templates, strict=True):
        _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(base, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield Databases(_with_database(base, names[0]), _with_database(base, names[1]))
    finally:
        for name in names:
            _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute(sql, params).fetchall())


# --- processes ---------------------------------------------------------------------


def environment(data_dir: Path, dbs: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment of a deployment's processes: its data dir, databases and keyring.

    Without ``dbs`` the processes use the embedded SQLite databases of ``data_dir``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    env["INUK_DATA_DIR"] = str(data_dir)
    if dbs:
        env.update(dbs)
        keys = data_dir / "vault-keys.json"
        if not keys.exists():
            from inuk.vault.keys import generate

            keys.write_text(generate())
            keys.chmod(0o600)
        env["INUK_VAULT_KEY_FILE"] = str(keys)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def inside(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """Run ``tests.deployment.inside ARGS`` in a process of the deployment; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.deployment.inside", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"inside {args[0]} failed: {done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def inuk(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inuk", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as a crash or the OOM killer."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Deployment:
    env: dict[str, str]
    logs: Path
    processes: list[Process] = field(default_factory=list)

    def _start(self, name: str, *args: str) -> Process:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "inuk", *args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def serve(self, *names: str) -> list[int]:
        """Start an ``inuk serve`` for each name; their ports, once all of them listen."""
        started = []
        for name in names:
            port = free_port()
            args = ("serve", "--port", str(port), "--no-worker", "--threads", "4")
            started.append((self._start(name, *args), port))
        for process, port in started:
            self._wait_listening(process, port)
        return [port for _, port in started]

    def _wait_listening(self, process: Process, port: int) -> None:
        name = process.name
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if process.popen.poll() is not None:
                    raise AssertionError(f"{name} ended: {process.output()}") from None
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} did not start: {process.output()}") from None
                time.sleep(0.2)

    def worker(self, name: str = "worker") -> Process:
        return self._start(name, "worker", "--sleep", "0.2")

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@contextlib.contextmanager
def deployment(env: dict[str, str], logs: Path) -> Iterator[Deployment]:
    logs.mkdir(parents=True, exist_ok=True)
    running = Deployment(env, logs)
    try:
        yield running
    finally:
        running.stop()


# --- the test's TCP proxy -----------------------------------------------------------


class Proxy:
    """A TCP proxy on 127.0.0.1, handing connections round-robin to its backends.

    ``cut()`` closes every connection through it and refuses new ones, as a
    network or a database server that went away; ``restore()`` lets them in again.
    """

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.open = True
        self._next = 0
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="proxy", daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self.listener.close()
        self._close_all()

    def cut(self) -> None:
        self.open = False
        self._close_all()

    def restore(self) -> None:
        self.open = True

    def _close_all(self) -> None:
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", backend), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._live.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        """Copy both ways until either side closes."""
        selector = selectors.DefaultSelector()
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.5):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            with self._lock:
                self._live.discard(a)
                self._live.discard(b)
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


# --- clients -----------------------------------------------------------------------


def send(client: httpx.Client, base: str, token: str, data: bytes, name: str, strict: bool):
    return client.post(
        f"{base}/api/v1/deliveries",
        params={"filename": name, "strict": "true" if strict else "false"},
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )


def wait_final(
    client: httpx.Client, url: str, token: str, timeout: float = 150, latencies=None
) -> dict:
    """The receipt at ``url`` once its status is final."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.perf_counter()
        answer = client.get(url, headers={"Authorization": f"Bearer {token}"})
        if latencies is not None:
            latencies.append(time.perf_counter() - started)
        if answer.status_code == 200 and answer.json()["status"] in FINAL:
            return answer.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"not final in time: {answer.status_code} {answer.text[:500]}")
        # As a client should: within the API's rate, and waiting as long as a 429 asks.
        time.sleep(
            float(answer.headers.get("Retry-After", POLL)) if answer.status_code == 429 else POLL
        )


def deliver_all(
    base: str, tokens: dict[str, str], planned: list, *, clients: int, latencies=None
) -> list[tuple]:
    """Each file (a ``files.Planned``) sent by its municipality's client, twice at the same
    moment if it says so, and followed to its final receipt, at most ``clients`` requests
    at a time; (file, the answer's status code, final receipt) for every send. The
    seconds each look at a receipt took are added to ``latencies``."""

    def one(item) -> list[tuple]:
        token = tokens[item.kommunkod]
        copies = 2 if item.twice else 1
        with httpx.Client(timeout=60) as client:
            # A file sent twice goes out twice at the same moment, from one client's
            # two threads: it holds one place among the ``clients``, never waits for another.
            pair = threading.Barrier(copies, timeout=60)

            def post(_: int):
                pair.wait()
                return send(client, base, token, item.data, item.name, item.strict)

            with ThreadPoolExecutor(copies) as both:
                answers = list(both.map(post, range(copies)))
            done = []
            for answer in answers:
                assert answer.status_code in (200, 201, 202), answer.text[:500]
                receipt = wait_final(client, answer.json()["url"], token, latencies=latencies)
                done.append((item, answer.status_code, receipt))
        return done

    with ThreadPoolExecutor(clients) as pool:
        return [sent for done in pool.map(one, planned) for sent in done]


# --- what a deployment holds ---------------------------------------------------------

#: The current state and the ledger, each row named by what it is about, not by
#: the deployment's own ids: the person's look-up hash in the vault (the same
#: keyring gives the same hash), the delivery's checksum.
STATE = """
    SELECT p.pseudonym, s.kommunkod, s.code, s.start, {end}, s.system, s.removed,
           s.transaction_time, d.checksum, s.position
    FROM {table} s JOIN ledger_person p ON p.id = s.person_id
    JOIN intake_delivery d ON d.id = s.delivery_id
"""
LEDGER = """
    SELECT p.pseudonym, t.kind, t.kommunkod, t.code, t.start, t."end", t.status,
           t.transaction_time, d.checksum, t.position
    FROM ledger_transaction t JOIN ledger_person p ON p.id = t.person_id
    JOIN intake_delivery d ON d.id = t.delivery_id
"""


def contents(dbs: Databases) -> dict[str, list[tuple]]:
    """The deployment's ledger, state and receipts, free of its pseudonyms and ids."""
    person = {
        pseudonym: bytes(lookup).hex()
        for pseudonym, lookup in query(dbs.vault, "SELECT pseudonym, lookup FROM vault_identity")
    }

    def named(rows: list[tuple]) -> list[tuple]:
        return sorted((person[row[0]], *row[1:]) for row in rows)

    return {
        "interventions": named(
            query(dbs.default, STATE.format(table="ledger_intervention", end='s."end"'))
        ),
        "results": named(query(dbs.default, STATE.format(table="ledger_result", end="NULL"))),
        "ledger": named(query(dbs.default, LEDGER)),
        "persons": sorted(
            (person[p], y, s)
            for p, y, s in query(
                dbs.default, "SELECT pseudonym, birth_year, sex FROM ledger_person"
            )
        ),
        "receipts": sorted(
            query(
                dbs.default,
                "SELECT checksum, status, persons, transactions, accepted, rejected, "
                "already_known FROM intake_delivery",
            )
        ),
    }
