"""The cluster's parts as real processes on loopback: a private redis-server, nginx with the
repository's config, API replicas on one PostgreSQL schema."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import psycopg

from bench.common import free_port
from tests.api.server import ROOT, Server
from tests.api.support import fast_env, wait_until
from tests.conftest import PG_URL

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
CAP = 6  # WebSocket connections per address across the cluster, in these tests


def wait_port(port: int, timeout: float = 10.0) -> None:
    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    wait_until(listening, timeout, f"a listener on 127.0.0.1:{port}", ignore=(OSError,))


class Redis:
    """A redis-server of the test's own on a free port, with nothing persisted."""

    def __init__(self, log_path: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: scripts/test installs it (apt-get install redis)"
        self.binary, self.log_path = binary, log_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Nginx:
    """nginx with deploy/nginx/nginx.conf, its ports moved to free ones for the test."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(binary).exists(), "nginx is missing: scripts/test installs it (apt-get)"
        self.binary, self.prefix = binary, prefix
        self.port = free_port()
        conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
        servers = "".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in upstreams
        )
        start = conf.index("        server 127.0.0.1:8001")
        end = conf.index("        keepalive")
        conf = conf[:start] + servers + conf[end:]
        conf = conf.replace("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{self.port};")
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        cmd = [self.binary, "-p", str(self.prefix), "-e", "logs/error.log", "-c", "nginx.conf"]
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"])
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def replica_env(tmp_path: Path, name: str, schema: str, redis: Redis) -> dict[str, str]:
    return fast_env(
        tmp_path,
        DATABASE_URL=PG_URL,
        AUTOOPS_DATABASE_SCHEMA=schema,
        AUTOOPS_BUS_URL=redis.url,
        AUTOOPS_BUS_NAMESPACE=f"autoops-{schema}",
        AUTOOPS_INSTANCE_ID=name,
        AUTOOPS_DAY_SECONDS="0.5",
        AUTOOPS_LIVE_INTERVAL="0.5",
        AUTOOPS_AGENT_INTERVAL="0.5",
        AUTOOPS_METRICS_INTERVAL="0.5",
        AUTOOPS_LEASE_POLL="0.5",
        AUTOOPS_TRUSTED_PROXIES="127.0.0.1",
        AUTOOPS_WS_MAX_CONNECTIONS_PER_IP=str(CAP),
        AUTOOPS_LOG_DIR=str(tmp_path / f"logs-{name}"),
    )


def pg_query(schema: str, sql: str, *args: object) -> list[tuple]:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(sql, args).fetchall()


def role(server: Server) -> str | None:
    try:
        return httpx.get(f"{server.http}/healthz", timeout=2).json().get("role")
    except httpx.HTTPError:
        return None


def ready(server: Server) -> bool:
    try:
        return httpx.get(f"{server.http}/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False
