"""Pieces both connectors share: a bounded memory of seen ids and a JSON-over-HTTP API client."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, Optional

import aiohttp

logger = logging.getLogger(__name__)


class SeenIds:
    """Remembers ids for ``ttl`` seconds, at most ``size`` of them (oldest forgotten first).

    In memory, so it deduplicates within one Rasa process: enough for one replica.
    Several replicas share RedisSeenIds instead (``seen_ids``).
    """

    def __init__(self, size: int = 10_000, ttl: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._seen: "OrderedDict[Hashable, float]" = OrderedDict()

    def check_and_add(self, key: Hashable) -> bool:
        """True if ``key`` was seen already; otherwise remember it and return False."""
        now = self.clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.size:
                break
            self._seen.popitem(last=False)
        if key in self._seen:
            return True
        self._seen[key] = now
        return False


class RedisSeenIds:
    """The same, shared by every replica through Redis (``SET key NX EX ttl``): a delivery
    that Telegram or Slack repeats to another replica is still recognised. If Redis does
    not answer, this replica's own memory decides (Rasa's lock store needs Redis too, so
    the message itself will then be refused)."""

    def __init__(self, name: str, host: str, port: int, db: int, ttl: float = 3600.0) -> None:
        import redis

        self.prefix, self.ttl = f"calcified:seen:{name}:", int(ttl)
        self.client = redis.Redis(host=host, port=port, db=db, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.local = SeenIds(ttl=ttl)

    def check_and_add(self, key: Hashable) -> bool:
        import redis

        seen_here = self.local.check_and_add(key)
        try:
            return not self.client.set(f"{self.prefix}{key!r}", b"1", nx=True, ex=self.ttl)
        except redis.RedisError as exc:
            logger.warning("Shared delivery ids unavailable (%s); this replica's memory decides",
                           type(exc).__name__)
            return seen_here


def seen_ids(name: str, env: Optional[Dict[str, str]] = None) -> Any:
    """Delivery ids seen by this channel: shared through Redis when the replicas use it
    (``REDIS_HOST``), else in this process's memory."""
    from clinic import settings as clinic

    host = clinic.redis_host(env)
    if not host:
        return SeenIds()
    return RedisSeenIds(name, host, int(clinic.redis_port(env)), int(clinic.redis_db(env)))


class ApiError(Exception):
    """The chat platform refused a call (its own error code and description, no secrets)."""

    def __init__(self, method: str, description: str, status: int = 0,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(f"{method}: {description}")
        self.method, self.description, self.status, self.retry_after = method, description, status, retry_after


class JsonApi:
    """POSTs JSON to ``<base>/<method>`` with one aiohttp session, created on first use.

    Retries once when the platform asks to slow down (HTTP 429 with a short wait) or
    the connection fails; never logs URLs, since Telegram's carry the bot token.
    """

    max_wait = 10.0

    def __init__(self, base_url: str, headers: Optional[Dict[str, str]] = None, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _session_for_this_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # A session belongs to one event loop (tests run one loop per test).
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
            self._loop = loop
        return self._session

    async def post(self, method: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        """The decoded JSON answer of a call (raises ApiError on transport or HTTP trouble)."""
        for attempt in (1, 2):
            try:
                session = self._session_for_this_loop()
                async with session.post(f"{self.base_url}/{method}", json=payload) as response:
                    try:
                        body = await response.json(content_type=None)
                    except ValueError:
                        body = None
                    if not isinstance(body, dict):
                        raise ApiError(method, f"HTTP {response.status} without a JSON object", response.status)
                    if response.status == 429:
                        wait = _retry_after(response.headers.get("Retry-After"), body)
                        if attempt == 1 and wait is not None and wait <= self.max_wait:
                            await asyncio.sleep(wait)
                            continue
                        raise ApiError(method, "rate limited", 429, wait)
                    body["_http_status"] = response.status
                    return body
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                if attempt == 2:
                    raise ApiError(method, f"{type(exc).__name__}") from exc
                await asyncio.sleep(0.5)
        raise ApiError(method, "no answer")  # not reached

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _retry_after(header: Optional[str], body: Dict[str, Any]) -> Optional[float]:
    params = body.get("parameters")
    if isinstance(params, dict) and isinstance(params.get("retry_after"), (int, float)):
        return float(params["retry_after"])  # Telegram puts it in the body
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def memory_or_redis(memory: Callable[[], Any], redis: Callable[[str, int, int], Any],
                    env: Optional[Any] = None) -> Any:
    """A store shared by Rasa's replicas through Redis when ``REDIS_HOST`` is set (the next
    request may reach another replica), else one in this process's memory."""
    from clinic import settings as clinic

    host = clinic.redis_host(env)
    return redis(host, int(clinic.redis_port(env)), int(clinic.redis_db(env))) if host else memory()
