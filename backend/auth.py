"""JWT authentication and roles (off by default; AUTOOPS_AUTH=jwt turns it on).

Roles are ordered: a viewer reads REST and subscribes to streams; an operator may also intervene
and acknowledge or resolve alerts; an admin may also reset agents. Tokens carry `sub`, `exp` and
`role`; HS256 with a shared secret or RS256/ES256 with a key pair.

CLI: python -m backend.auth mint --sub alice --role operator --ttl 8h
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass
from enum import IntEnum

import jwt

from backend.errors import Forbidden, NotAuthenticated


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: object) -> Role:
        if isinstance(name, str) and name.upper() in cls.__members__:
            return cls[name.upper()]
        raise ValueError(f"role: expected one of viewer, operator, admin, got {name!r}")


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    expires: float | None = None  # the token's `exp` (Unix seconds); None: never (auth off)


ANONYMOUS = Principal(sub="anonymous", role=Role.ADMIN)  # what every caller is when auth is off

_TTL = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """Seconds in a duration such as 90s, 15m, 8h or 7d."""
    match = _TTL.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"ttl: expected a positive duration such as 15m, 8h or 7d, got {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def mint(
    sub: str,
    role: Role,
    ttl_seconds: int,
    key: str,
    algorithm: str = "HS256",
    now: float | None = None,
) -> str:
    """A signed token for `sub` with `role`, valid for `ttl_seconds`."""
    if not sub.strip():
        raise ValueError("sub: expected a non-empty subject name")
    issued = int(time.time() if now is None else now)
    claims = {"sub": sub, "role": role.name.lower(), "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, key, algorithm=algorithm)


def verify(token: str | None, key: str, algorithms: list[str]) -> Principal:
    """The principal a token names; NotAuthenticated when it is missing, bad or expired."""
    if not token:
        raise NotAuthenticated(
            "expected a bearer token (Authorization: Bearer <jwt>), got none", token_given=False
        )
    try:
        claims = jwt.decode(token, key, algorithms=algorithms, options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("token expired: mint a new one") from None
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"expected a valid signed JWT, got one that fails: {exc}") from None
    try:
        role = Role.parse(claims.get("role"))
    except ValueError as exc:
        raise NotAuthenticated(str(exc)) from None
    return Principal(sub=str(claims["sub"]), role=role, expires=float(claims["exp"]))


def require(principal: Principal, needed: Role, what: str) -> None:
    """Raise Forbidden unless the principal's role is at least `needed`."""
    if principal.role < needed:
        raise Forbidden(principal.role.name.lower(), needed.name.lower(), what)


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.auth", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("mint", help="print a signed token")
    m.add_argument("--sub", required=True, help="who the token is for")
    m.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    m.add_argument("--ttl", default="8h", help="lifetime such as 15m, 8h, 7d (default 8h)")
    args = parser.parse_args(argv)
    key = os.environ.get("AUTOOPS_JWT_PRIVATE_KEY") or os.environ.get("AUTOOPS_JWT_SECRET")
    if not key:
        parser.error(
            "set AUTOOPS_JWT_SECRET (HS256) or AUTOOPS_JWT_PRIVATE_KEY (with AUTOOPS_JWT_ALGORITHM)"
        )
    algorithm = os.environ.get("AUTOOPS_JWT_ALGORITHM", "HS256")
    try:
        token = mint(args.sub, Role.parse(args.role), parse_ttl(args.ttl), key, algorithm)
    except ValueError as exc:
        parser.error(str(exc))
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
