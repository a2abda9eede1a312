"""Rasa's Redis lock store, made safe for several replicas.

Rasa 3.6's ``RedisLockStore`` keeps each conversation's ticket queue as one JSON value
and changes it by read-modify-write (``get`` the queue, append a ticket, ``set`` it back).
Two replicas receiving messages of one conversation at the same moment both read the same
queue and both believe they hold the lock; both then write the conversation, and Rasa's
SQL store, which appends only the events beyond those already stored, drops one turn: in
``make bench`` 6 of 1,881 acknowledged messages were lost, all in bursts of simultaneous
messages (reproduced by tests/e2e/test_scaled.py). It also re-checks a waiting ticket only
once a second, the 1.1 s p95 of a burst's later messages.

Here a conversation's lock is one Redis key taken with ``SET NX PX`` and released only by
its holder (redis-py's ``Lock``: a token checked by a Lua script), so exactly one replica
handles a conversation at a time; a holder that dies frees it after the lock's lifetime.
Waiting messages retry every WAIT_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncGenerator, Optional, Text

logger = logging.getLogger(__name__)

WAIT_SECONDS = 0.01


def install() -> None:
    from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

    @contextlib.asynccontextmanager
    async def lock(self: Any, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: Optional[float] = None) -> AsyncGenerator[Any, None]:
        import redis

        mutex = self.red.lock(f"{self.key_prefix}{conversation_id}:held", timeout=lock_lifetime)
        deadline = time.monotonic() + lock_lifetime
        while not mutex.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise LockError(f"Could not acquire the lock of a conversation within {lock_lifetime:.0f} s.")
            await asyncio.sleep(WAIT_SECONDS)
        try:
            yield mutex
        finally:
            try:
                mutex.release()
            except redis.exceptions.LockError:  # held longer than its lifetime: already freed
                logger.warning("A conversation's lock expired before its message was handled")

    RedisLockStore.lock = lock
