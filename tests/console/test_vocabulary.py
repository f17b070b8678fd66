"""The console imports nothing from backend/, so it keeps its own copy of the words it shares
with the backend; each copy is the backend's definition, value for value."""

from __future__ import annotations

from backend import schemas
from backend.agents.records import AGENT_IDS, AGENT_NAMES
from backend.auth import Role
from console import client


def test_the_agents_and_their_names_are_the_backends() -> None:
    assert client.AGENT_IDS == AGENT_IDS
    assert client.AGENT_NAMES == AGENT_NAMES


def test_the_actions_roles_and_list_limit_are_the_backends() -> None:
    assert client.ACTIONS == schemas.ACTIONS
    assert client.ROLES == tuple(r.name.lower() for r in sorted(Role))
    assert client.MAX_LIMIT == schemas.MAX_LIMIT
