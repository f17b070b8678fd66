"""Connections per client address across replicas, counted in Redis.

Each replica writes its own counts (a hash per replica) every few seconds with an expiry, so a
replica that dies stops counting within `TTL` seconds without anyone cleaning up. A replica adds
the others' published counts to its own exact count; the others' part is at most `REFRESH`
seconds old, so connections opened at once on several replicas can overshoot the cap briefly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

TTL = 15.0
REFRESH = 3.0


class SharedCounts:
    def __init__(self, client: Any, namespace: str, instance: str) -> None:
        self.client = client
        self.instance = instance
        self.members = f"{namespace}:conn-replicas"
        self.prefix = f"{namespace}:conns:"

    async def others(self, ip: str) -> int:
        """Connections from `ip` on the other live replicas (0 when Redis does not answer)."""
        try:
            live = await self.client.zrangebyscore(self.members, time.time() - TTL, "+inf")
            names = [n.decode() for n in live if n.decode() != self.instance]
            if not names:
                return 0
            async with self.client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hget(self.prefix + name, ip)
                values = await pipe.execute()
        except Exception as exc:  # Redis away: this replica's own cap still holds
            log.warning("reading other replicas' connection counts failed: %s", exc)
            return 0
        return sum(int(v) for v in values if v is not None)

    async def publish(self, counts: Counter[str]) -> None:
        key = self.prefix + self.instance
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if counts:
                pipe.hset(key, mapping=dict(counts))
            pipe.expire(key, int(TTL))
            pipe.zadd(self.members, {self.instance: time.time()})
            pipe.zremrangebyscore(self.members, "-inf", time.time() - TTL)
            await pipe.execute()

    async def keep_published(self, counts: Counter[str]) -> None:
        while True:
            try:
                await self.publish(counts)
            except Exception as exc:  # retried on the next round; counts expire meanwhile
                log.warning("publishing connection counts failed: %s", exc)
            await asyncio.sleep(REFRESH)
