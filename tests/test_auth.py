from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from backend.auth import Principal, Role, mint, parse_ttl, require, verify
from backend.errors import Forbidden, NotAuthenticated

SECRET = "test-secret-that-is-long-enough-for-hs256"
ROOT = Path(__file__).resolve().parents[1]


def test_minted_token_verifies_to_its_subject_and_role() -> None:
    now = int(time.time())
    token = mint("alice", Role.OPERATOR, 3600, SECRET, now=now)
    assert verify(token, SECRET, ["HS256"]) == Principal("alice", Role.OPERATOR, now + 3600.0)


def test_expired_token_is_refused() -> None:
    token = mint("alice", Role.ADMIN, 60, SECRET, now=1_000_000)
    with pytest.raises(NotAuthenticated, match="expired"):
        verify(token, SECRET, ["HS256"])


def test_token_signed_with_another_key_is_refused() -> None:
    token = mint("mallory", Role.ADMIN, 3600, "another-secret-of-enough-length-xx")
    with pytest.raises(NotAuthenticated, match="valid signed JWT"):
        verify(token, SECRET, ["HS256"])


def test_missing_token_and_unknown_role_are_refused() -> None:
    with pytest.raises(NotAuthenticated, match="bearer token"):
        verify(None, SECRET, ["HS256"])
    forged = jwt.encode(
        {"sub": "bob", "exp": 4_000_000_000, "role": "root"}, SECRET, algorithm="HS256"
    )
    with pytest.raises(NotAuthenticated, match="role"):
        verify(forged, SECRET, ["HS256"])


def test_roles_are_ordered_viewer_operator_admin() -> None:
    require(Principal("a", Role.ADMIN), Role.OPERATOR, "intervene")
    require(Principal("o", Role.OPERATOR), Role.OPERATOR, "intervene")
    with pytest.raises(Forbidden, match="'operator' or higher; this token has 'viewer'"):
        require(Principal("v", Role.VIEWER), Role.OPERATOR, "intervene")
    with pytest.raises(Forbidden):
        require(Principal("o", Role.OPERATOR), Role.ADMIN, "reset")


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("15m", 900), ("8h", 28800), ("7d", 604800)])
def test_ttl_parses_durations(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("bad", ["", "8", "0h", "8w", "-1h"])
def test_ttl_rejects_what_is_not_a_duration(bad: str) -> None:
    with pytest.raises(ValueError, match="expected a positive duration"):
        parse_ttl(bad)


def test_mint_cli_prints_a_token_that_verifies() -> None:
    env = {**os.environ, "AUTOOPS_JWT_SECRET": SECRET}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.auth",
            "mint",
            "--sub",
            "alice",
            "--role",
            "operator",
            "--ttl",
            "8h",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    caller = verify(out.stdout.strip(), SECRET, ["HS256"])
    assert (caller.sub, caller.role) == ("alice", Role.OPERATOR)
    assert caller.expires is not None and 8 * 3600 - 60 < caller.expires - time.time() <= 8 * 3600


def test_mint_cli_without_a_key_says_what_to_set() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOOPS_JWT")}
    out = subprocess.run(
        [sys.executable, "-m", "backend.auth", "mint", "--sub", "a", "--role", "viewer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "AUTOOPS_JWT_SECRET" in out.stderr
