"""A real uvicorn process on a free port, run exactly as the Procfile runs it; close codes read off it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.harness import free_port
from tests.api.support import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.env = {**os.environ, **env}
        self.args = args  # uvicorn options after (and overriding) the Procfile's
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0, same_port: bool = False) -> Server:
        """Start on a free port, or again on the last one (what a client reconnects to)."""
        self.port = self.port if same_port and self.port else free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ws-per-message-deflate",
            "false",
            # as the Procfile: the app alone decides whom to believe about forwarded addresses
            "--no-proxy-headers",
            "--no-access-log",
            *self.args,
        ]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

        def healthy() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}: {self.tail()}")
            return httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200

        try:
            wait_until(healthy, timeout, "/healthz", interval=0.1, ignore=(httpx.HTTPError,))
        except AssertionError:
            self.stop()
            raise RuntimeError(
                f"uvicorn did not answer /healthz in {timeout} s: {self.tail()}"
            ) from None
        return self

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, as honcho and container runtimes send; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        code, self.proc = self.proc.returncode, None
        return code

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._log.close()
        self.proc = None

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


async def close_code(ws: ClientConnection, timeout: float = 15.0) -> tuple[int | None, str]:
    """Read until the server closes; the code and reason it sent."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    raise AssertionError("unreachable")
