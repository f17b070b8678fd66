"""REST client for the AutoOps backend: timeouts, and every failure turned into a plain message."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

DEFAULT_API_URL = "http://localhost:8000"
PREFIX = "/api/dashboard"
MAX_LIMIT = 500  # the largest `limit` the list endpoints take
AGENT_IDS = ("pricing_agent", "inventory_agent", "promotion_agent")
AGENT_NAMES = {
    "pricing_agent": "Pricing Agent",
    "inventory_agent": "Inventory Agent",
    "promotion_agent": "Promotion Agent",
}


def agent_name(agent_id: str) -> str:
    """The agent's display name; an unknown id as it is."""
    return AGENT_NAMES.get(agent_id, agent_id)


ACTIONS = ("pause", "resume", "reset", "override")


def api_url_from_env() -> str:
    """The backend base URL from AUTOOPS_API_URL, without a trailing slash."""
    return (os.environ.get("AUTOOPS_API_URL") or DEFAULT_API_URL).rstrip("/")


ROLES = ("viewer", "operator", "admin")
# The least role each console action needs (the backend enforces; the console only hides buttons).
ACTION_ROLES = {
    "pause": "operator",
    "resume": "operator",
    "override": "operator",
    "acknowledge": "operator",
    "resolve": "operator",
    "reset": "admin",
}


def token_from_env() -> str | None:
    """The bearer token from AUTOOPS_API_TOKEN (None when the backend runs without auth)."""
    return (os.environ.get("AUTOOPS_API_TOKEN") or "").strip() or None


def token_role(token: str | None) -> str:
    """The role claim, read without checking the signature: for display only.

    No token means a backend without auth, where every action is allowed; a token whose role
    cannot be read is treated as a viewer's.
    """
    if token is None:
        return "admin"
    try:
        role = jwt.decode(token, options={"verify_signature": False}).get("role")
    except jwt.PyJWTError:
        return "viewer"
    return role if role in ROLES else "viewer"


def may(role: str, action: str) -> bool:
    """Whether `role` may take `action` (pause, resume, reset, override, acknowledge, resolve)."""
    needed = ACTION_ROLES.get(action, "admin")
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


class ApiError(Exception):
    """A request that did not succeed; str(e) is a sentence an operator can act on."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def unreachable(self) -> bool:
        return self.status is None


def error_detail(response: httpx.Response) -> str:
    """The backend's own explanation from an error body (FastAPI `detail`, or `message`)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail", body.get("message", body.get("error")))
        if isinstance(detail, list):  # pydantic validation errors: one line per field
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                    msg = str(item.get("msg", item))
                    parts.append(f"{where}: {msg}" if where else msg)
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        if detail is not None:
            return detail if isinstance(detail, str) else str(detail)
    return str(body)[:500]


class ApiClient:
    """Thin synchronous client for the dashboard REST API."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = (base_url or api_url_from_env()).rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; return the decoded JSON or raise ApiError with a clear message."""
        return self.exchange(method, path, **kwargs)[0]

    def exchange(self, method: str, path: str, **kwargs: Any) -> tuple[Any, httpx.Headers]:
        """Send one request; the decoded JSON and the response headers, or raise ApiError."""
        url = path if path.startswith("/") else f"{PREFIX}/{path}"
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(
                f"The backend at {self.base_url} did not answer {method} {url} in time."
            ) from None
        except httpx.TransportError as exc:
            log.info("backend unreachable: %s %s: %s", method, url, exc)
            raise ApiError(
                f"The backend at {self.base_url} is unreachable ({type(exc).__name__}). "
                "Is it running?"
            ) from None
        if response.status_code >= 400:
            detail = error_detail(response)
            if response.status_code >= 500:
                message = (
                    f"The backend failed on {method} {url} (HTTP {response.status_code}): {detail}"
                )
            else:
                message = (
                    f"The backend refused {method} {url} (HTTP {response.status_code}): {detail}"
                )
            raise ApiError(message, response.status_code)
        if not response.content:
            return None, response.headers
        try:
            return response.json(), response.headers
        except ValueError:
            raise ApiError(
                f"The backend answered {method} {url} with something other than JSON.",
                response.status_code,
            ) from None

    # The dashboard endpoints, one method each.
    def agent_statuses(self) -> list[dict]:
        return as_list(self.request("GET", "agents/status"), "agents")

    def metrics_current(self) -> dict:
        return self.request("GET", "metrics/current") or {}

    def recent_decisions(self, limit: int = 100, agent_id: str | None = None) -> list[dict]:
        params: dict[str, Any] = {"limit": limit}
        if agent_id:
            params["agent_id"] = agent_id
        return as_list(self.request("GET", "decisions/recent", params=params), "decisions")

    def active_alerts(self) -> list[dict]:
        return as_list(self.request("GET", "alerts/active"), "alerts")

    def metrics_history(self, since: str | None = None, limit: int | None = None) -> list[dict]:
        params: dict[str, Any] = {}
        if since:
            params["since"] = since
        if limit:
            params["limit"] = limit
        return as_list(self.request("GET", "metrics/history", params=params), "history")

    def store_skus(
        self,
        offset: int = 0,
        limit: int = 200,
        category: str | None = None,
        q: str | None = None,
    ) -> tuple[int | None, list[dict]]:
        """One page of the store's SKUs and how many match the filters in all (None: the
        backend did not say)."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if category:
            params["category"] = category
        if q:
            params["q"] = q
        body, headers = self.exchange("GET", "store/skus", params=params)
        rows = as_list(body, "skus")
        count = headers.get("x-total-count", "")
        return (int(count) if count.isdigit() else None), rows

    def metrics_by_category(self) -> dict:
        return self.request("GET", "metrics/by-category") or {}

    def interventions(self, limit: int = MAX_LIMIT) -> list[dict]:
        return as_list(
            self.request("GET", "interventions", params={"limit": limit}), "interventions"
        )

    def intervene(
        self, agent_id: str, action: str, reason: str, parameters: dict | None = None
    ) -> dict:
        body = {
            "agent_id": agent_id,
            "action": action,
            "parameters": parameters or {},
            "reason": reason,
        }
        return self.request("POST", f"agents/{agent_id}/intervention", json=body) or {}

    def replay_range(self) -> dict:
        return self.request("GET", "replay") or {}

    def replay_day(self, day: int, limit: int = 200) -> dict:
        return self.request("GET", f"replay/{day}", params={"limit": limit}) or {}

    def preview(self, agent_id: str, parameters: dict) -> dict:
        """What the agent's model expects of an override, with it and without it."""
        body = {"agent_id": agent_id, "action": "override", "parameters": parameters}
        return self.request("POST", f"agents/{agent_id}/intervention/preview", json=body) or {}

    def acknowledge_alert(self, alert_id: str) -> dict:
        return self.request("POST", f"alerts/{alert_id}/acknowledge") or {}

    def resolve_alert(self, alert_id: str) -> dict:
        return self.request("POST", f"alerts/{alert_id}/resolve") or {}


def as_list(body: Any, key: str) -> list[dict]:
    """A list body as is, or the list under `key`/`items`/`data` of an envelope object."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for k in (key, "items", "data", "results"):
            if isinstance(body.get(k), list):
                return body[k]
    if body is None:
        return []
    raise ApiError(f"Expected a list of {key} from the backend, got {type(body).__name__}.")
