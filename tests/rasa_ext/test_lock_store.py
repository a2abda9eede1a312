"""One replica at a time per conversation, through this machine's real Redis: two
RedisLockStore instances stand for two Rasa replicas."""

import asyncio
import uuid

import pytest
from rasa.core.lock_store import LockError, RedisLockStore

from rasa_ext import lock_store

lock_store.install()
REDIS_DB = 13


def replicas(count=2):
    return [RedisLockStore(host="127.0.0.1", port=6379, db=REDIS_DB, key_prefix="test") for _ in range(count)]


def test_two_replicas_never_hold_one_conversation_at_once():
    conversation = f"c-{uuid.uuid4().hex[:8]}"
    inside, most, order = [0], [0], []

    async def handle(store, name):
        async with store.lock(conversation):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            await asyncio.sleep(0.02)  # a message being handled
            order.append(name)
            inside[0] -= 1

    async def burst():
        stores = replicas()
        await asyncio.gather(*(handle(stores[i % 2], i) for i in range(12)))

    asyncio.run(burst())
    assert most[0] == 1 and sorted(order) == list(range(12))


def test_other_conversations_are_not_held_up():
    first, second = replicas()

    async def scenario():
        async with first.lock(f"a-{uuid.uuid4().hex[:8]}"):
            async with second.lock(f"b-{uuid.uuid4().hex[:8]}"):
                return True

    assert asyncio.run(asyncio.wait_for(scenario(), 2))


def test_a_lock_whose_holder_died_is_freed_after_its_lifetime():
    conversation = f"c-{uuid.uuid4().hex[:8]}"
    dead, alive = replicas()
    dead.red.lock(f"{dead.key_prefix}{conversation}:held", timeout=0.3).acquire(blocking=False)  # never released

    async def scenario():
        async with alive.lock(conversation, lock_lifetime=5):
            return True

    assert asyncio.run(asyncio.wait_for(scenario(), 3))


def test_waiting_longer_than_the_lifetime_fails_the_turn():
    conversation = f"c-{uuid.uuid4().hex[:8]}"
    holder, waiter = replicas()
    holder.red.lock(f"{holder.key_prefix}{conversation}:held", timeout=30).acquire(blocking=False)

    async def scenario():
        async with waiter.lock(conversation, lock_lifetime=0.3):
            pass

    with pytest.raises(LockError):
        asyncio.run(scenario())
    holder.red.delete(f"{holder.key_prefix}{conversation}:held")
