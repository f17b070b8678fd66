"""Per-connection Python heap of the app: 1,000 metrics subscribers, tracemalloc diff by line.

Run from the repository root:
    PYTHONPATH=.:bench/results/prototype python bench/results/prototype/tracemalloc_run.py
"""

import multiprocessing as mp
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import ServerProcess, app_env, free_port, rss_kib, running, uvicorn_argv
from bench.swarm import ConnSpec, WorkerSpec, worker_main

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        env = {**app_env(Path(d)), "PYTHONTRACEMALLOC": "1", "AUTOOPS_DAY_SECONDS": "3600"}
        srv = ServerProcess(uvicorn_argv("tracemalloc_app:create_app", port), port, env, "app")
        with running(srv):
            time.sleep(3)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/snap?reset=1").read()
            r0 = rss_kib(srv.pid)
            conns = [
                ConnSpec(i, "/api/dashboard/ws/metrics/real-time", f"127.0.9.{2 + i // 50}", False)
                for i in range(1000)
            ]
            a, b = mp.get_context("spawn").Pipe()
            p = mp.get_context("spawn").Process(
                target=worker_main, args=(WorkerSpec("127.0.0.1", port, conns), b), daemon=True
            )
            p.start()
            print(a.recv())
            time.sleep(3)
            print("rss KiB/conn", (rss_kib(srv.pid) - r0) / 1000)
            print(urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/snap").read().decode())
            now = time.monotonic()
            a.send((now, now + 1, now + 2))
            a.recv()
            p.join(5)
