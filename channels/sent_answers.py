"""Which answer a Telegram or Slack message was, so a patient's 👍 / 👎 reaction can be kept.

Neither platform says what the reacted-to message said: Telegram's ``message_reaction``
update and Slack's ``reaction_added`` event carry only the message's id (Telegram's
``message_id``, Slack's ``ts``). The output channels remember, for each answer they send,
its conversation and a digest of its text under ``<channel>:<chat>:<message id>``; the input
channels look a reaction's message up here, find the answer with that digest in the
conversation's tracker (channels/reactions.py) and store the rating (storage/feedback.py).
Only a digest, because an answer can repeat what the patient gave (a booking's name and
phone): this memory and Redis hold no patient text, and an answer whose conversation was
deleted ("forget me") can no longer be rated.

In this process's memory (the newest MAX_REMEMBERED answers) with one Rasa process; in Redis
with several replicas (``REDIS_HOST``), since the reaction may reach another replica than the
one that sent the answer. An answer older than TTL_SECONDS, or sent before a single process
restarted, can no longer be rated: the reaction is ignored and logged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
import hashlib
from typing import Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

TTL_SECONDS = 30 * 24 * 3600
MAX_REMEMBERED = 20_000


def key(channel: str, chat: object, message_id: object) -> str:
    return f"{channel}:{chat}:{message_id}"


def digest(answer: str) -> str:
    """What is kept of an answer: enough to find it again among the conversation's messages."""
    return hashlib.sha256(" ".join(answer.split()).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class MemorySentAnswers:
    def __init__(self, size: int = MAX_REMEMBERED) -> None:
        self.size = size
        self._sent: "OrderedDict[str, Tuple[str, str]]" = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, message_key: str, conversation_id: str, answer: str) -> None:
        with self._lock:
            self._sent[message_key] = (conversation_id, digest(answer))
            self._sent.move_to_end(message_key)
            while len(self._sent) > self.size:
                self._sent.popitem(last=False)

    def recall(self, message_key: str) -> Optional[Tuple[str, str]]:
        """(conversation id, digest of the answer), or None."""
        with self._lock:
            return self._sent.get(message_key)


class RedisSentAnswers:
    def __init__(self, host: str, port: int, db: int) -> None:
        import redis

        self.client = redis.Redis(host=host, port=port, db=db, socket_timeout=2.0, socket_connect_timeout=2.0)

    def remember(self, message_key: str, conversation_id: str, answer: str) -> None:
        import redis

        try:
            self.client.set(f"calcified:sent:{message_key}", json.dumps([conversation_id, digest(answer)]),
                            ex=TTL_SECONDS)
        except redis.RedisError as exc:  # the answer went out; only its rating is lost
            logger.warning("A sent answer could not be remembered for ratings: %s", type(exc).__name__)

    def recall(self, message_key: str) -> Optional[Tuple[str, str]]:
        import redis

        try:
            raw = self.client.get(f"calcified:sent:{message_key}")
        except redis.RedisError as exc:
            logger.warning("A rated answer could not be looked up: %s", type(exc).__name__)
            return None
        try:
            conversation_id, answer_digest = json.loads(raw) if raw else (None, None)
        except (ValueError, TypeError):
            return None
        if isinstance(conversation_id, str) and isinstance(answer_digest, str):
            return conversation_id, answer_digest
        return None


_current = None
_current_lock = threading.Lock()


def current(env: Optional[Mapping[str, str]] = None):
    """This process's memory of sent answers: Redis-backed when ``REDIS_HOST`` is set."""
    global _current
    with _current_lock:
        if _current is None:
            from channels.common import memory_or_redis

            _current = memory_or_redis(MemorySentAnswers, RedisSentAnswers, env)
        return _current
