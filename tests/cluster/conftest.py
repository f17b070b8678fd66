"""A cluster per test: a private Redis, a PostgreSQL schema, two API replicas and nginx.

These tests fail, never skip, when a service is missing: the replicas are only proven on the
real thing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from bench.cluster import Nginx, Redis
from tests.api.server import Server
from tests.api.support import wait_until
from tests.cluster.services import PG_DSN, ready, replica_env, role
from tests.conftest import PG_URL
from tests.hardening.tcpproxy import TcpProxy


@dataclass
class Cluster:
    schema: str
    redis: Redis
    replicas: dict[str, Server]
    nginx: Nginx

    def leader(self) -> tuple[str, Server]:
        return next((n, s) for n, s in self.replicas.items() if s.proc and role(s) == "leader")

    def follower(self) -> tuple[str, Server]:
        return next((n, s) for n, s in self.replicas.items() if s.proc and role(s) == "follower")


@pytest.fixture
def pg_private_schema() -> Iterator[str]:
    name = f"autoops_cluster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, connect_timeout=5):  # fails the test when PostgreSQL is away
        pass
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@contextmanager
def running_cluster(tmp_path: Path, schema: str, pg_url: str = PG_URL) -> Iterator[Cluster]:
    redis = Redis(tmp_path / "redis.log").start()
    replicas: dict[str, Server] = {}
    nginx: Nginx | None = None
    try:
        for name in ("a", "b"):
            env = replica_env(tmp_path, name, schema, redis) | {"DATABASE_URL": pg_url}
            replicas[name] = Server(env, tmp_path / f"{name}.log").start()
        nginx = Nginx(tmp_path / "nginx", [s.port for s in replicas.values()]).start()
        wait_until(
            lambda: all(ready(s) for s in replicas.values()),
            timeout=30,
            what="both replicas ready",
        )
        yield Cluster(schema, redis, replicas, nginx)
    finally:
        if nginx is not None:
            nginx.stop()
        for server in replicas.values():
            if server.proc is not None:
                server.stop()
        redis.stop()


@pytest.fixture
def cluster(tmp_path: Path, pg_private_schema: str) -> Iterator[Cluster]:
    with running_cluster(tmp_path, pg_private_schema) as running:
        yield running


@pytest.fixture
def db_proxy() -> Iterator[TcpProxy]:
    """PostgreSQL behind a proxy the test can cut: every session drops, as in a restart."""
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    yield proxy
    proxy.cut()


@pytest.fixture
def cluster_behind_proxy(
    tmp_path: Path, pg_private_schema: str, db_proxy: TcpProxy
) -> Iterator[tuple[Cluster, TcpProxy]]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{db_proxy.port}/test"
    with running_cluster(tmp_path, pg_private_schema, url) as running:
        yield running, db_proxy
