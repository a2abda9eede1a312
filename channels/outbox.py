"""Staff messages waiting for a REST client's next request.

The widget, Telegram and Slack get a staff reply the moment it is sent (channels/staff_relay.py
pushes it). A REST client only hears from the assistant in the answer to its own request,
so a staff reply to a REST conversation waits here and goes out at the start of that
conversation's next answer (channels/rest.py), oldest first, each once.

In this process's memory when Rasa runs as one process; in Redis when the replicas share
Redis (``REDIS_HOST``), since the next request may reach another replica.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from typing import Any, Dict, List, Mapping, Optional

logger = logging.getLogger(__name__)

TTL_SECONDS = 7 * 24 * 3600  # a REST client silent for a week does not get week-old replies
MAX_WAITING = 100  # per conversation: a runaway sender cannot fill memory


class MemoryOutbox:
    def __init__(self) -> None:
        self._waiting: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()

    def put(self, conversation_id: str, message: Dict[str, Any]) -> None:
        with self._lock:
            waiting = self._waiting[conversation_id]
            waiting.append(message)
            del waiting[:-MAX_WAITING]

    def take(self, conversation_id: str) -> List[Dict[str, Any]]:
        if conversation_id not in self._waiting:  # the common case: one dict lookup
            return []
        with self._lock:
            return self._waiting.pop(conversation_id, [])


class RedisOutbox:
    """One Redis list per conversation; ``take`` reads and deletes it in one transaction."""

    def __init__(self, host: str, port: int, db: int) -> None:
        import redis

        self.client = redis.Redis(host=host, port=port, db=db, socket_timeout=2.0, socket_connect_timeout=2.0)

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"calcified:outbox:{conversation_id}"

    def put(self, conversation_id: str, message: Dict[str, Any]) -> None:
        key = self._key(conversation_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(message))
        pipe.ltrim(key, -MAX_WAITING, -1)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()

    def take(self, conversation_id: str) -> List[Dict[str, Any]]:
        import redis

        key = self._key(conversation_id)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.lrange(key, 0, -1)
            pipe.delete(key)
            raw, _ = pipe.execute()
        except redis.RedisError as exc:
            # The message itself needs Redis too (the lock store) and will be refused;
            # the staff replies stay waiting for the next request.
            logger.warning("Waiting staff replies could not be read: %s", type(exc).__name__)
            return []
        messages = []
        for item in raw:
            try:
                messages.append(json.loads(item))
            except ValueError:
                continue
        return messages


_current: Optional[Any] = None
_current_lock = threading.Lock()


def current(env: Optional[Mapping[str, str]] = None) -> Any:
    """This process's outbox: Redis-backed when ``REDIS_HOST`` is set, else in memory."""
    global _current
    with _current_lock:
        if _current is None:
            from channels.common import memory_or_redis

            _current = memory_or_redis(MemoryOutbox, RedisOutbox, env)
        return _current
