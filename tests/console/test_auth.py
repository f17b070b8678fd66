"""The console's token: sent on REST and on the streams; buttons follow the token's role."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from backend.auth import Role, mint
from console.client import ApiClient, may, token_role
from console.listener import StreamListener
from tests.api.server import Server
from tests.api.support import fast_env, wait_until

from .conftest import FakeApi, FakeListener
from .test_app import run_app

SECRET = "console-test-secret-long-enough-for-hs256"


def token(role: Role) -> str:
    return mint(f"console-{role.name.lower()}", role, 3600, SECRET)


def test_the_role_is_read_from_the_token_for_display_only() -> None:
    assert token_role(None) == "admin"  # no token: a backend without auth
    assert token_role(token(Role.OPERATOR)) == "operator"  # any signature: the backend checks
    assert token_role("not-a-jwt") == "viewer"
    assert [may("operator", a) for a in ("pause", "override", "resolve", "reset")] == [True] * 3 + [
        False
    ]
    assert not may("viewer", "acknowledge") and may("admin", "reset")


def test_rest_calls_carry_the_bearer_token() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json=[])

    ApiClient("http://x", transport=httpx.MockTransport(handler), token="abc").agent_statuses()
    ApiClient("http://x", transport=httpx.MockTransport(handler)).agent_statuses()
    assert seen == ["Bearer abc", None]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("secured")
    srv = Server(
        fast_env(home, AUTOOPS_AUTH="jwt", AUTOOPS_JWT_SECRET=SECRET), home / "server.log"
    ).start()
    yield srv
    srv.stop()


def test_the_listener_subscribes_to_a_secured_backend_with_its_token(secured: Server) -> None:
    with_token = StreamListener(secured.http, token=token(Role.VIEWER), connect_timeout=2.0).start()
    without = StreamListener(secured.http, connect_timeout=2.0).start()
    try:
        wait_until(
            lambda: (
                all(s.messages > 1 for s in with_token.view().streams.values())
                and all(s.last_error for s in without.view().streams.values())
            ),
            20,
            "messages with the token and a refusal without",
            interval=0.1,
        )
        ok, bad = with_token.view().streams, without.view().streams
    finally:
        with_token.stop()
        without.stop()
    assert all(s.connects >= 1 and s.messages > 1 for s in ok.values())
    # Accepted, then closed before any message: the token is what the backend wanted.
    assert all(s.messages == 0 and s.last_error for s in bad.values())


def test_a_viewer_token_shows_no_intervention_or_alert_buttons(
    monkeypatch: pytest.MonkeyPatch, live: tuple[FakeApi, FakeListener]
) -> None:
    monkeypatch.setenv("AUTOOPS_API_TOKEN", token(Role.VIEWER))
    overview = run_app()
    alerts = run_app("views/alerts.py")
    override = run_app("views/override.py")
    assert not [b for b in overview.button if b.label in ("Pause", "Resume", "Reset")]
    assert not [b for b in alerts.button if b.label in ("Acknowledge", "Resolve")]
    assert any("overrides need 'operator'" in i.value for i in override.info)


def test_an_operator_token_may_pause_but_not_reset(
    monkeypatch: pytest.MonkeyPatch, live: tuple[FakeApi, FakeListener]
) -> None:
    monkeypatch.setenv("AUTOOPS_API_TOKEN", token(Role.OPERATOR))
    overview = run_app()
    alerts = run_app("views/alerts.py")
    labels = [b.label for b in overview.button]
    assert labels.count("Pause") == 3 and "Reset" not in labels
    assert any(b.label == "Acknowledge" for b in alerts.button)


def test_without_a_token_every_button_is_shown(live: tuple[FakeApi, FakeListener]) -> None:
    labels = [b.label for b in run_app().button]
    assert labels.count("Reset") == 3 and labels.count("Pause") == 3
