"""Interventions on the running store: recorded, applied and broadcast.

The runner's own (`record`, from an API request) and those other replicas recorded as pending
(`apply_pending`, between days) go the same way: the audit row and the lease's apply_seq first,
then the change of the store and its message in the same transaction (backend.runner.persistence).
Each holds the runner's `changes` lock from the change to the commit, so that no day is traded or
checkpointed between an intervention and its record; the store lock only for the change itself,
so reads of the store never wait on the database.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from backend.agents.operation import Operation
from backend.agents.preview import preview_override
from backend.db import repo
from backend.db.lease import Deposed
from backend.errors import AutoOpsError
from backend.runner import persistence, wire

if TYPE_CHECKING:
    from backend.runner.loop import Runner

log = logging.getLogger(__name__)


def apply(op: Operation, agent_id: str, action: str, parameters: dict[str, Any]) -> str:
    """Change the store (caller holds its lock); the store's message."""
    if action == "override":
        return str(op.override(agent_id, parameters))
    return str(getattr(op, action)(agent_id))


class Interventions:
    """The interventions of one Runner, on its store, under its lease."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def _change(self, agent_id: str, action: str, parameters: dict[str, Any]) -> persistence.Apply:
        """The change of the store, and copies of what it left, under the store lock."""
        runner = self.runner

        def change() -> persistence.Applied:
            with runner.store_lock:
                op = runner.op
                message = apply(op, agent_id, action, parameters)
                agents = [wire.agent_status(a) for a in op.agent_stats()]
                skus = [wire.sku_row(r) for r in op.sku_rows()] if runner.publish_state else None
            state = None
            if skus is not None:  # stored for followers with the record
                state = persistence.Published.after_intervention(runner.view, agents, skus)
            return persistence.Applied(message, agents, state)

        return change

    def record(
        self,
        agent_id: str,
        action: str,
        parameters: dict[str, Any],
        reason: str,
        client: str | None,
        sub: str = "anonymous",
    ) -> dict[str, Any]:
        """Record, apply and commit one intervention; runs in a worker thread."""
        runner = self.runner
        record = persistence.new_intervention(agent_id, action, parameters, reason, client, sub)
        runner.ensure_lease()
        override = action == "override"
        with runner.changes:
            with runner.store_lock:
                record["day"] = int(runner.op.day)
                # what the agent's model expects of an override, kept with the record
                preview = preview_override(runner.op, agent_id, parameters) if override else None
            if override:
                record["preview"] = wire.jsonable(preview)
            persistence.record_intervention(
                runner.engine, record, runner.epoch, self._change(agent_id, action, parameters)
            )
            runner.applied_seq = record["apply_seq"]
        return record

    def apply_pending_now(self) -> list[dict[str, Any]]:
        """Apply the interventions other replicas recorded, in the order they came; each in its
        own fenced transaction. Runs in the runner's thread; returns the applied records."""
        runner = self.runner
        runner.ensure_lease()
        with runner.engine.connect() as conn:
            rows = repo.pending_interventions(conn)
        applied = []
        for row in rows:
            change = self._change(row["agent_id"], row["action"], row["parameters"])
            try:
                with runner.changes:
                    taken = persistence.apply_pending(runner.engine, row, runner.epoch, change)
                    if taken:
                        runner.applied_seq = row["apply_seq"]
            except Deposed:
                raise
            except AutoOpsError as exc:  # the store refused it: the requester is told why
                persistence.reject_pending(runner.engine, row, str(exc))
                continue
            if taken:  # else its requester expired it first
                applied.append(row)
        return applied

    async def apply_pending(self) -> list[dict[str, Any]]:
        """Apply what other replicas recorded (in the runner's thread, between days)."""
        runner = self.runner
        try:
            applied: list[dict[str, Any]] = await runner.in_runner_thread(self.apply_pending_now)
        except Deposed as exc:
            runner.step_down(exc)
            return []
        for record in applied:
            runner.after_intervention(record.pop("agents"))
            log.info(
                "intervention %s from another replica: %s %s (%s)",
                record["intervention_id"],
                record["action"],
                record["agent_id"],
                record["message"],
            )
        return applied
