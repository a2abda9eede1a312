"""Delivery ids that Telegram and Slack repeat, recognised across replicas through this
machine's real Redis (127.0.0.1:6379, a database of the tests' own)."""

import uuid

import pytest
import redis

from channels.common import RedisSeenIds, SeenIds, seen_ids
from tools.scaled import free_port_block

REDIS_DB = 14


@pytest.fixture
def name():
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis(db=REDIS_DB)
    for key in client.scan_iter(f"calcified:seen:{name}:*"):
        client.delete(key)


def test_a_delivery_seen_by_one_replica_is_recognised_by_the_other(name):
    first, second = (RedisSeenIds(name, "127.0.0.1", 6379, REDIS_DB) for _ in range(2))
    assert first.check_and_add(("event", "Ev01")) is False
    assert second.check_and_add(("event", "Ev01")) is True  # Slack's retry reached the other replica
    assert second.check_and_add(("event", "Ev02")) is False
    ttl = redis.Redis(db=REDIS_DB).ttl(f"calcified:seen:{name}:{('event', 'Ev01')!r}")
    assert 3500 < ttl <= 3600  # forgotten after an hour, like the in-memory ids


def test_without_redis_this_replicas_memory_decides(name):
    down = RedisSeenIds(name, "127.0.0.1", free_port_block(1), REDIS_DB)
    assert down.check_and_add(123) is False and down.check_and_add(123) is True


def test_shared_only_when_the_replicas_use_redis():
    assert isinstance(seen_ids("telegram", {}), SeenIds)
    shared = seen_ids("telegram", {"REDIS_HOST": "127.0.0.1", "REDIS_DB": "3"})
    assert isinstance(shared, RedisSeenIds) and shared.prefix == "calcified:seen:telegram:"
