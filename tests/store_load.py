"""Several uvicorn workers on one database, many clients writing inside the same Locations: does
every acknowledged write survive? Used by ``tests/test_store_workers.py`` (small counts) and
``bench/stores.py concurrency`` (the full sizes).

The server is the generated 2.2.1 eMSP scaffold (``generated/2.2.1/server/emsp``: the Locations
receiver), run as ``python -m uvicorn app:app --workers N`` on 127.0.0.1 with ``OCPI_DATABASE``.
``clients`` concurrent clients (one connection each) send ``ops`` requests each: a nested PUT or a
PATCH of an EVSE, every EVSE owned by one client and spread over ``locations`` shared Locations,
so the writers of one Location contend for it. Each write carries the client's sequence number
(``physical_reference``) and a ``last_updated`` that grows with it. Afterwards each EVSE must hold
the client's last acknowledged write or a later one (a write whose answer never came, because its
worker was killed, may or may not have been stored); with no kill, exactly the last one.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ocpi_runtime.server._store import Party, open_store
from tests.conftest import ROOT

SERVER_DIR = ROOT / "generated" / "2.2.1" / "server" / "emsp"
VERSION = "2.2.1"
TOKEN = "load-token-c"
OWNER = ("NL", "CPO")
EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _stamp(seq: int) -> str:
    return (EPOCH + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache
def _samples() -> tuple[dict[str, Any], dict[str, Any]]:
    """A full 2.2.1 Location (no EVSEs) and a full EVSE, as JSON values."""
    from generator.ir import ObjectType
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from tests.samples import dumps, loads, obj

    spec = load_spec(SPEC_ROOT, VERSION)
    loc_type = spec.type("Location")
    assert isinstance(loc_type, ObjectType)
    location = loads(dumps(obj(spec, loc_type)))
    evse = location["evses"][0]
    location["evses"] = []
    return location, evse


@dataclass
class LoadResult:
    """What the clients saw and what the database holds afterwards."""

    workers: int
    clients: int
    ops: int
    seconds: float = 0.0
    acked: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    locked_messages: int = 0
    killed: list[int] = field(default_factory=list)
    killed_connections: int = 0
    """Client connections the killed workers held when they were killed."""
    lost: list[str] = field(default_factory=list)
    """EVSEs whose stored write is older than the last acknowledged one (or missing)."""
    newer_than_acked: int = 0
    """EVSEs holding a write whose answer never came (its worker died): allowed."""

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> str:
        return (
            f"{self.workers} workers, {self.clients} clients x {self.ops}: {self.acked} acknowledged in"
            f" {self.seconds:.1f} s ({self.acked / max(self.seconds, 1e-9):.0f}/s), statuses {dict(sorted(self.statuses.items()))},"
            f" {self.connection_errors} connection errors, {len(self.killed)} worker(s) killed"
            f" (holding {self.killed_connections} client connections),"
            f" {len(self.lost)} lost, {self.newer_than_acked} EVSE(s) holding an unanswered write,"
            f" {self.locked_messages} 'database is locked'"
        )


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def worker_pids(master: int) -> list[int]:
    """The uvicorn worker processes of a ``--workers N`` master (not multiprocessing's helpers)."""
    pids = []
    for pid in _children(master):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            pids.append(pid)
    return pids


def connections_by_worker(master: int, port: int) -> dict[int, int]:
    """How many established client connections on ``port`` each worker holds (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":  # 01: ESTABLISHED
                inodes.add(cols[9])
    counts = {}
    for pid in worker_pids(master):
        n = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    n += 1
        except OSError:
            pass
        counts[pid] = n
    return counts


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(url: str, prefix: str, locations: int, location: dict[str, Any]) -> None:
    store = open_store(url)
    try:
        if await store.party("load") is None:
            await store.save_party(Party(party_key="load", token_c=TOKEN, version=VERSION))
        for n in range(locations):
            loc = copy.deepcopy(location)
            loc["id"], (loc["country_code"], loc["party_id"]) = f"{prefix}{n}", OWNER
            loc["last_updated"] = _stamp(0)
            await store.put_object("Location", *OWNER, loc["id"], loc, loc["last_updated"])
    finally:
        await store.close()


async def _stored_evses(url: str, prefix: str, locations: int) -> dict[str, dict[str, Any]]:
    store = open_store(url)
    try:
        out: dict[str, dict[str, Any]] = {}
        for n in range(locations):
            loc = await store.get_object("Location", *OWNER, f"{prefix}{n}")
            assert loc is not None, f"{prefix}{n} is gone"
            for evse in loc.get("evses", []):
                out[f"{prefix}{n}/{evse['uid']}"] = evse
        return out
    finally:
        await store.close()


class LoadServer:
    """``python -m uvicorn app:app --workers N`` of the 2.2.1 eMSP scaffold on ``url``, 127.0.0.1;
    its log (stderr) goes to a file. A context manager: stopped (workers and all) on exit."""

    def __init__(self, url: str, workers: int) -> None:
        self.url, self.workers, self.port = url, workers, _free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="ocpi-load-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LoadServer:
        env = {
            **os.environ,
            "OCPI_DATABASE": self.url,
            "OCPI_BASE_URL": f"http://127.0.0.1:{self.port}/ocpi",
            "OCPI_COUNTRY_CODE": "NL",
            "OCPI_PARTY_ID": "EMS",
        }
        cmd = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--workers", str(self.workers), "--log-level", "warning", "--no-access-log"]
        self.proc = proc = subprocess.Popen(cmd, cwd=SERVER_DIR, env=env, stdout=subprocess.DEVNULL, stderr=self._log)
        import httpx

        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {self.log()[-2000:]}")
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("uvicorn did not start in 90 s")
            try:
                answer = httpx.get(f"http://127.0.0.1:{self.port}/ocpi/versions", timeout=2).status_code
                if answer in (200, 401) and len(worker_pids(proc.pid)) >= self.workers:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def __exit__(self, *exc_info: object) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in worker_pids(proc.pid):
                    os.kill(pid, signal.SIGKILL)
                proc.kill()
                proc.wait(timeout=10)
        self._log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        """What the server has written to stderr so far."""
        return Path(self._log.name).read_text(errors="replace")


def run_load(
    server: LoadServer,
    *,
    clients: int = 8,
    ops: int = 60,
    locations: int = 4,
    evses_per_client: int = 3,
    kill_at: tuple[float, ...] = (),
    seed: int = 7,
    prefix: str = "LOC",
) -> LoadResult:
    """Seed Locations ``{prefix}0``... and run the clients against ``server``; each of ``kill_at``
    (fractions of all requests, e.g. ``(0.3, 0.6)``) kills one worker with SIGKILL, while the
    clients' requests are in flight, once that many requests are answered."""
    location, evse_sample = _samples()
    asyncio.run(_seed(server.url, prefix, locations, location))
    result = LoadResult(server.workers, clients, ops)
    # last[key] = the highest sequence number acknowledged; sent[key] = every sequence number sent
    last: dict[str, int] = {}
    sent: dict[str, set[int]] = {}
    kill_after = [int(at * clients * ops) for at in sorted(kill_at)]
    log_before = len(server.log())
    plan = _Plan(prefix, clients, ops, locations, evses_per_client, evse_sample, kill_after, seed)
    result.seconds = asyncio.run(_clients(server.port, server.pid, plan, result, last, sent))
    result.locked_messages += server.log()[log_before:].count("database is locked")
    stored = asyncio.run(_stored_evses(server.url, prefix, locations))
    result.lost, result.newer_than_acked = check_writes(last, sent, stored)
    return result


@dataclass(frozen=True)
class _Plan:
    prefix: str
    clients: int
    ops: int
    locations: int
    evses_per_client: int
    evse_sample: dict[str, Any]
    kill_after: list[int]
    seed: int


def check_writes(
    last: dict[str, int], sent: dict[str, set[int]], stored: dict[str, dict[str, Any]]
) -> tuple[list[str], int]:
    """The EVSEs that lost an acknowledged write (missing, holding an older write or one never
    sent), and how many hold a write newer than the last acknowledged one (sent, never answered)."""
    lost, newer = [], 0
    for key, seq in sorted(last.items()):
        evse = stored.get(key)
        ref = evse.get("physical_reference") if evse is not None else None
        got = int(ref[1:]) if isinstance(ref, str) and ref[1:].isdigit() else -1
        if got < seq or (got > seq and got not in sent.get(key, ())):
            lost.append(f"{key}: acknowledged w{seq}, stored {ref}")
        elif got > seq:
            newer += 1
    return lost, newer


async def _clients(
    port: int,
    master: int,
    plan: _Plan,
    result: LoadResult,
    last: dict[str, int],
    sent: dict[str, set[int]],
) -> float:
    import httpx

    base = f"http://127.0.0.1:{port}/ocpi/{VERSION}/locations/{OWNER[0]}/{OWNER[1]}"
    auth = {"Authorization": "Token " + base64.b64encode(TOKEN.encode()).decode()}
    done = [0]

    async def client(c: int) -> None:
        rng = random.Random(plan.seed * 1000 + c)
        created: set[str] = set()
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)) as http:
            for seq in range(1, plan.ops + 1):
                loc, e = f"{plan.prefix}{rng.randrange(plan.locations)}", rng.randrange(plan.evses_per_client)
                uid = f"C{c}-E{e}"
                key = f"{loc}/{uid}"
                ref = f"w{seq}"
                headers = {**auth, "X-Request-ID": f"{c}-{seq}", "X-Correlation-ID": f"{c}-{seq}"}
                if key not in created or rng.random() < 0.35:
                    body = copy.deepcopy(plan.evse_sample)
                    body.update(uid=uid, physical_reference=ref, last_updated=_stamp(seq))
                    body.pop("evse_id", None)
                    request = http.build_request("PUT", f"{base}/{loc}/{uid}", json=body, headers=headers)
                else:
                    patch = {"physical_reference": ref, "status": rng.choice(["AVAILABLE", "CHARGING"])}
                    patch["last_updated"] = _stamp(seq)
                    request = http.build_request("PATCH", f"{base}/{loc}/{uid}", json=patch, headers=headers)
                sent.setdefault(key, set()).add(seq)
                try:
                    response = await http.send(request)
                except httpx.TransportError:
                    result.connection_errors += 1
                    continue
                result.statuses[response.status_code] += 1
                if "database is locked" in response.text:
                    result.locked_messages += 1
                if response.status_code in (200, 201) and response.json().get("status_code") == 1000:
                    result.acked += 1
                    created.add(key)
                    last[key] = max(last.get(key, 0), seq)
                done[0] += 1

    async def killer() -> None:
        # Runs between the clients' events: when it fires, the other clients' requests are in flight.
        rng = random.Random(plan.seed)
        for after in plan.kill_after:
            while done[0] < after:
                await asyncio.sleep(0.002)
            # The worker serving the most clients' connections, so that requests die with it.
            held = connections_by_worker(master, port)
            if held:
                victim = max(held, key=lambda pid: (held[pid], rng.random()))
                os.kill(victim, signal.SIGKILL)
                result.killed.append(victim)
                result.killed_connections += held[victim]

    start = time.perf_counter()
    await asyncio.gather(killer(), *(client(c) for c in range(plan.clients)))
    return time.perf_counter() - start
