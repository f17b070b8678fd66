"""The cluster's parts as processes on loopback: a private redis-server, nginx with the
repository's config (deploy/nginx/nginx.conf) in front of chosen upstreams, and the environment
and uvicorn options of a replica as Procfile.cluster runs it. Shared by the replica benchmark
(bench/replicas.py) and the cluster tests (tests/cluster)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.harness import ROOT, free_port, procfile_uvicorn_options

PROCFILE_CLUSTER = ROOT / "Procfile.cluster"
NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop_group(proc: subprocess.Popen[bytes], sig: int, timeout: float = 10.0) -> None:
    """Send `sig` to the process group, then SIGKILL it if it is still there after `timeout`."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # workers of a master that died first
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class Redis:
    """A redis-server of its own on a free port, with nothing persisted; restartable on that port."""

    def __init__(self, log_path: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: scripts/test installs it (apt-get install redis)"
        self.binary, self.log_path = binary, log_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "redis-server is not running"
        return self.proc.pid

    def start(self) -> Redis:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc, signal.SIGKILL)
            self.proc = None


class Nginx:
    """nginx with deploy/nginx/nginx.conf: its upstream servers and listen port replaced, and
    (`workers`) its worker_processes, else the repository's setting."""

    def __init__(self, prefix: Path, upstreams: list[int], workers: int | None = None) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(binary).exists(), "nginx is missing: scripts/test installs it (apt-get)"
        self.binary, self.prefix = binary, prefix
        self.port = free_port()
        conf = NGINX_CONF.read_text()
        servers = "".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in upstreams
        )
        start = conf.index("        server 127.0.0.1:8001")
        end = conf.index("        keepalive")
        conf = conf[:start] + servers + conf[end:]
        conf = conf.replace("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{self.port};")
        if workers is not None:
            conf, n = re.subn(r"(?m)^worker_processes \S+;", f"worker_processes {workers};", conf)
            assert n == 1, "deploy/nginx/nginx.conf: expected one worker_processes line"
        self.conf = conf
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The master and its workers (children of the master, from /proc)."""
        assert self.proc is not None, "nginx is not running"
        out = [self.proc.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            out += [int(p) for p in children.split()]
        return out

    def start(self) -> Nginx:
        cmd = [self.binary, "-p", str(self.prefix), "-e", "logs/error.log", "-c", "nginx.conf"]
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"], start_new_session=True)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc, signal.SIGQUIT)  # graceful: the workers finish and exit
            self.proc = None


def cluster_env(database_url: str, schema: str, bus_url: str, instance: str) -> dict[str, str]:
    """What makes a process a replica: PostgreSQL (a schema of its own), the Redis bus, its name,
    and nginx on loopback as the proxy whose X-Forwarded-For it believes (as Procfile.cluster)."""
    return {
        "DATABASE_URL": database_url,
        "AUTOOPS_DATABASE_SCHEMA": schema,
        "AUTOOPS_BUS_URL": bus_url,
        "AUTOOPS_BUS_NAMESPACE": f"autoops-{schema}",
        "AUTOOPS_INSTANCE_ID": instance,
        "AUTOOPS_TRUSTED_PROXIES": "127.0.0.1",
    }


def replica_command(process: str = "api1") -> tuple[dict[str, str], list[str]]:
    """(environment assignments, uvicorn options) of a replica's line in Procfile.cluster, the
    target, host and port left out."""
    line = next(
        line for line in PROCFILE_CLUSTER.read_text().splitlines() if line.startswith(f"{process}:")
    )
    words = line.split()[1:]
    env = dict(w.split("=", 1) for w in words[: words.index("python")])
    return env, procfile_uvicorn_options(words)


def psycopg_dsn(database_url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as psycopg takes it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", database_url)


def drop_schema(database_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(psycopg_dsn(database_url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
