"""The cluster tests' replicas on one PostgreSQL schema, with fast cadences and a small cap; the
processes themselves (redis-server, nginx) are bench.cluster's, shared with the benchmark."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg

from bench.cluster import Redis, cluster_env
from tests.api.server import Server
from tests.api.support import fast_env
from tests.conftest import PG_URL

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
CAP = 6  # WebSocket connections per address across the cluster, in these tests


def replica_env(tmp_path: Path, name: str, schema: str, redis: Redis) -> dict[str, str]:
    return fast_env(
        tmp_path,
        **cluster_env(PG_URL, schema, redis.url, name),
        AUTOOPS_DAY_SECONDS="0.5",
        AUTOOPS_LIVE_INTERVAL="0.5",
        AUTOOPS_AGENT_INTERVAL="0.5",
        AUTOOPS_METRICS_INTERVAL="0.5",
        AUTOOPS_LEASE_POLL="0.5",
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
