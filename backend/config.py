"""One Settings object read from the environment (prefix AUTOOPS_; DATABASE_URL and LOG_LEVEL also bare)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'data' / 'autoops.db'}"
# The contract's two origins, and Vite's default dev server for a React team.
CONTRACT_ORIGINS = ["http://localhost:3000", "http://localhost:8501", "http://localhost:5173"]
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
JWT_ALGORITHMS = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    """Everything the backend reads from its environment; the table is in README.md, "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="AUTOOPS_", extra="ignore", populate_by_name=True)

    # The store and its clock.
    day_seconds: float = Field(2.0, gt=0, description="wall seconds per simulated day")
    seed: int = Field(0, ge=0)
    skus: int = Field(50, ge=1, le=100_000, description="SKUs in a new store (AUTOOPS_SKUS)")
    window_days: int = Field(28, ge=1, description="trailing window of the windowed KPIs")
    stockout_window_days: int = Field(7, ge=1)

    # Stream cadences (seconds); the contract's 5/3/2 are the defaults.
    live_interval: float = Field(5.0, gt=0)
    agent_interval: float = Field(3.0, gt=0)
    metrics_interval: float = Field(2.0, gt=0)

    # Persistence and the bus.
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("AUTOOPS_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    database_schema: str | None = Field(
        None, description="PostgreSQL schema for every table (tests use one per run)"
    )
    bus_url: str = "memory://"
    bus_namespace: str = Field(
        "autoops",
        min_length=1,
        description="prefix of the bus channels (one run shares one namespace)",
    )
    bus_queue_size: int = Field(1000, ge=1, description="bounded queue per bus subscriber")
    retention_days: int = Field(
        365, ge=1, description="sim days of decisions, snapshots and resolved alerts kept"
    )
    audit_retention_days: int = Field(3650, ge=1, description="sim days of interventions kept")
    checkpoints_kept: int = Field(3, ge=1)

    # Replicas: with a PostgreSQL DATABASE_URL and a shared (redis://) bus, every process serves
    # the API and one of them, elected, runs the store.
    instance_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        min_length=1,
        max_length=64,
        description="this replica's name in the lease, the logs and /healthz",
    )
    lease_poll: float = Field(
        1.0, gt=0, description="seconds between a follower's tries to take the runner lease"
    )
    intervention_timeout: float = Field(
        5.0, gt=0, description="seconds a follower waits for the leader to apply an intervention"
    )

    # HTTP and WebSocket limits.
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CONTRACT_ORIGINS)
    )
    ws_history_size: int = Field(
        2000,
        ge=0,
        description="live-updates events kept in memory for ?since= resume (0: no resume)",
    )
    ws_max_connections_per_ip: int = Field(100, ge=1)
    ws_messages_per_second: float = Field(10.0, gt=0)
    ws_max_frame_bytes: int = Field(64 * 1024, ge=1)
    ws_outbox_size: int = Field(256, ge=1, description="messages queued per client before 1013")
    ws_close_timeout: float = Field(5.0, gt=0, description="seconds to wait for a close to flush")
    ws_token_check_interval: float = Field(
        5.0,
        gt=0,
        description=("seconds between checks that close (1008) streams whose token has expired"),
    )
    gc_freeze_interval: float = Field(
        10.0,
        ge=0,
        description=(
            "seconds between gc.freeze() passes that move new connections' objects out of the "
            "collector's full passes; 0 turns freezing off"
        ),
    )
    gc_collect_share: float = Field(
        0.25,
        gt=0,
        description=(
            "closed connections, as a share of those open, that trigger one full collection"
        ),
    )
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(
        default_factory=list,
        description="peers whose X-Forwarded-For is believed (addresses or CIDR networks)",
    )

    # Authentication: off by default; "jwt" checks a bearer token on every REST call and stream.
    auth: Literal["off", "jwt"] = "off"
    jwt_secret: SecretStr | None = Field(None, description="HS* shared secret")
    jwt_public_key: str | None = Field(None, description="PEM public key for RS*/PS*/ES*/EdDSA")
    jwt_algorithm: str = "HS256"

    # Logs.
    log_level: str = Field(
        "INFO", validation_alias=AliasChoices("AUTOOPS_LOG_LEVEL", "LOG_LEVEL", "log_level")
    )
    log_dir: Path = ROOT / "logs"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Accept "a,b" as well as a JSON list, since both are common in .env files.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("auth", mode="before")
    @classmethod
    def _normalise_auth(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _auth_has_a_key(self) -> Settings:
        # Refuse to start "secured" without a way to check signatures.
        if self.jwt_algorithm not in JWT_ALGORITHMS:
            raise ValueError(
                f"AUTOOPS_JWT_ALGORITHM: expected one of {', '.join(JWT_ALGORITHMS)}, "
                f"got {self.jwt_algorithm!r}"
            )
        if self.auth == "jwt":
            if self.jwt_algorithm.startswith("HS") and not self.jwt_secret:
                raise ValueError(
                    f"AUTOOPS_AUTH=jwt with {self.jwt_algorithm}: expected "
                    "AUTOOPS_JWT_SECRET to be set, got none"
                )
            if not self.jwt_algorithm.startswith("HS") and not self.jwt_public_key:
                raise ValueError(
                    f"AUTOOPS_AUTH=jwt with {self.jwt_algorithm}: expected "
                    "AUTOOPS_JWT_PUBLIC_KEY (PEM) to be set, got none"
                )
        return self

    @property
    def replicated(self) -> bool:
        """Several processes share the run: PostgreSQL for the record and a bus between them."""
        return self.database_url.startswith("postgresql") and not self.bus_url.startswith("memory")

    @property
    def jwt_key(self) -> str:
        """The key that checks signatures: the shared secret for HS*, else the public key."""
        if self.jwt_algorithm.startswith("HS"):
            return self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        return self.jwt_public_key or ""

    @field_validator("log_level", mode="before")
    @classmethod
    def _normalise_level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().upper()
            if level not in LOG_LEVELS:
                raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
            return level
        return value
