"""Prometheus instruments on a per-app registry (several apps can live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from backend.schemas import METRIC_FIELDS


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.days = Counter("autoops_days", "Sim days traded", registry=r)
        self.day_failures = Counter("autoops_day_failures", "Sim days that raised", registry=r)
        self.persist_failures = Counter(
            "autoops_persist_failures",
            "Day transactions that failed and will be retried",
            registry=r,
        )
        self.day_seconds = Histogram(
            "autoops_day_duration_seconds",
            "Wall seconds to trade one day (agents and both stores)",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.decisions = Counter("autoops_decisions", "Decisions made", ["agent_id"], registry=r)
        self.interventions = Counter(
            "autoops_interventions", "Interventions applied", ["action"], registry=r
        )
        self.sim_day = Gauge("autoops_sim_day", "Days traded so far", registry=r)
        self.kpi = Gauge(
            "autoops_kpi", "The contract's system metrics (NaN while unknown)", ["name"], registry=r
        )
        self.alerts_open = Gauge(
            "autoops_alerts_open", "Active and acknowledged alerts", registry=r
        )
        self.ws_connections = Gauge(
            "autoops_ws_connections", "Open WebSocket connections", ["stream"], registry=r
        )
        self.ws_sent = Counter(
            "autoops_ws_messages_sent",
            "WebSocket messages queued to clients",
            ["stream"],
            registry=r,
        )
        self.ws_direct = Counter(
            "autoops_ws_messages_direct",
            (
                "Of the messages sent, those written straight to uvicorn's transport as one frame "
                "serialised per broadcast (the rest go through the ASGI send)"
            ),
            registry=r,
        )
        self.ws_closed = Counter(
            "autoops_ws_closed", "WebSocket connections closed by the server", ["code"], registry=r
        )
        self.leader = Gauge(
            "autoops_leader", "1 while this process runs the store, else 0", registry=r
        )
        self.epoch = Gauge(
            "autoops_epoch", "The run epoch this process trades under or relays", registry=r
        )
        self.leader_changes = Counter(
            "autoops_leader_changes", "Times this process took the lead", registry=r
        )
        self.bus_gaps = Counter(
            "autoops_bus_gaps",
            "Leader frames missing in sequence (lost on the bus), or bus reconnects",
            registry=r,
        )
        self.relay_lag = Gauge(
            "autoops_relay_lag_seconds",
            "Wall seconds from the leader publishing a frame to this follower relaying it",
            registry=r,
        )
        self.relayed = Counter(
            "autoops_frames_relayed", "Leader frames relayed to this process's clients", registry=r
        )
        self.stale_frames = Counter(
            "autoops_frames_stale",
            "Frames of an older epoch dropped (a deposed leader)",
            registry=r,
        )
        for name in METRIC_FIELDS:
            self.kpi.labels(name=name).set(float("nan"))

    def record_kpis(self, metrics: dict[str, int | float | None]) -> None:
        for name, value in metrics.items():
            self.kpi.labels(name=name).set(float("nan") if value is None else float(value))
