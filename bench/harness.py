"""Helpers shared by the benchmarks: server processes, /proc readings, machine facts, stats."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
APP_FACTORY = "backend.api.app:create_app"
# Used when the Procfile has no uvicorn line; every server a benchmark compares runs with the same.
UVICORN_OPTIONS = ("--factory", "--ws-per-message-deflate", "false")
NOFILE_WANTED = 65536

# Debian's Chromium (no browser is downloaded), headless in a container: no sandbox, no GPU, and
# none of the background traffic a first run starts.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def raise_nofile(wanted: int = NOFILE_WANTED) -> int:
    """Raise RLIMIT_NOFILE as far as allowed (root may lift the hard limit too); return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(wanted, soft), max(wanted, hard)))
        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loopback_address(index: int) -> str:
    """The index-th usable loopback address from 127.0.0.2 upward, skipping .0 and .255 hosts."""
    if index < 0:
        raise ValueError(f"address index: expected >= 0, got {index}")
    slot = index + 1  # slot 0 is 127.0.0.1, where the servers listen
    block, host = divmod(slot, 254)
    a, b = divmod(block, 256)
    if a > 255:
        raise ValueError(f"address index {index} is beyond 127.0.0.0/8")
    return f"127.{a}.{b}.{host + 1}"


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (fields 14 and 15 of /proc/PID/stat), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values; NaN when there are none."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def rounded(x: float | None, digits: int = 3) -> float | None:
    """JSON-safe rounding: NaN and infinities become None."""
    if x is None or not math.isfinite(x):
        return None
    return round(x, digits)


def ratio(app: float | None, reference: float | None) -> float | None:
    if app is None or reference is None or reference == 0:
        return None
    return round(app / reference, 3)


def machine_facts() -> dict[str, Any]:
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "loadavg_at_start": list(os.getloadavg()),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version()}
    for name in ("websockets", "uvicorn", "starlette", "fastapi", "uvloop", "httptools", "orjson"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
        out["wrk"] = (wrk.stdout or wrk.stderr).split("[")[0].strip()
    return out


def write_json(path: str | Path | None, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=False)
    if path is None:
        print(text)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text + "\n")
    log.info("wrote %s", path)


def _raise_limits_in_child() -> None:
    raise_nofile()


@dataclass
class ServerProcess:
    """A server in its own process group, killed (group and all) when the context exits."""

    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    name: str = "server"
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.proc.pid

    def start(self, ready_timeout: float = 60.0) -> None:
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, **self.env, "PYTHONPATH": path}
        fd, log_name = tempfile.mkstemp(prefix=f"bench-{self.name}-", suffix=".log")
        self.log_path = Path(log_name)
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=env,
            stdout=fd,
            stderr=fd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_raise_limits_in_child,
        )
        os.close(fd)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} while starting: "
                    f"{self.log_tail()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not listen on port {self.port} within {ready_timeout} s: "
            f"{self.log_tail()}"
        )

    def log_tail(self, n: int = 2000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
        self.proc = None


@contextlib.contextmanager
def running(server: ServerProcess, ready_timeout: float = 60.0) -> Iterator[ServerProcess]:
    """Start a server and always stop it, also on errors and Ctrl-C."""
    try:
        server.start(ready_timeout)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def paused(server: ServerProcess) -> Iterator[None]:
    """Stop a server process (SIGSTOP) so its background work takes no CPU from another's run."""
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)


def uvicorn_options() -> list[str]:
    """The uvicorn options of the Procfile's `api:` line, less the target, host and port."""
    procfile = ROOT / "Procfile"
    lines = procfile.read_text().splitlines() if procfile.exists() else []
    words = next(
        (line.split()[1:] for line in lines if line.startswith("api:") and "uvicorn" in line), []
    )
    return procfile_uvicorn_options(words) if words else list(UVICORN_OPTIONS)


def procfile_uvicorn_options(words: list[str]) -> list[str]:
    """The options of a Procfile line's uvicorn command (its words after the process name),
    less the target, host and port."""
    options, skip = [], False
    for word in words[words.index("uvicorn") + 2 :]:  # after `-m uvicorn` and the target
        if skip:
            skip = False
        elif word in ("--host", "--port"):
            skip = True
        else:
            options.append(word)
    return options


def uvicorn_option(name: str, default: float) -> float:
    """A numeric uvicorn option as the Procfile sets it (e.g. --ws-ping-interval)."""
    options = uvicorn_options()
    return float(options[options.index(name) + 1]) if name in options else default


def uvicorn_argv(target: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        *uvicorn_options(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def console_argv(port: int) -> list[str]:
    """The Procfile's console, headless on 127.0.0.1:port, without usage stats or file watching."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "console/app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def app_env(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the app under test: a private SQLite file, the default cadences, and the
    Procfile's log level (it sets none, so the default: every run logs as a deployment does)."""
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "AUTOOPS_LOG_DIR": str(workdir / "logs"),
    }
    env.update(extra or {})
    return env


def app_factory() -> str:
    # BENCH_APP_FACTORY points the benchmarks at another build of the app (e.g. a stand-in).
    return os.environ.get("BENCH_APP_FACTORY", APP_FACTORY)


def app_facts(env: dict[str, str] | None = None) -> dict[str, Any]:
    """What ran as "the app", for a results file: factory, log level, uvicorn options, env."""
    from backend.config import Settings

    env = {**(env or {})}
    level = env.get("LOG_LEVEL") or os.environ.get("LOG_LEVEL") or Settings().log_level
    return {
        "app_factory": app_factory(),
        "log_level": level,
        "uvicorn_options": uvicorn_options(),
        "env": env,
    }


def app_server(workdir: Path, extra_env: dict[str, str] | None = None) -> ServerProcess:
    port = free_port()
    return ServerProcess(
        uvicorn_argv(app_factory(), port), port, app_env(workdir, extra_env), "app"
    )
