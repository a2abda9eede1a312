"""The request store on SQLite and on PostgreSQL (the same tests, parametrized)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from storage import requests as storage, tables
from storage.requests import NewRequest, RequestStore
from tests.storage.support import database_url, postgres_admin, store  # noqa: F401

T0 = datetime(2030, 5, 6, 9, 30, tzinfo=timezone.utc)


def booking(key="key-1", conversation="conv-1", **extra) -> NewRequest:
    values = dict(
        kind="appointment", conversation_id=conversation, channel="rest", idempotency_key=key,
        specialist="Nephrologist", full_name="Jane Smith", email="jane@example.org",
        phone="+447700900123", preferred_time_text="next Tuesday morning",
        preferred_time=datetime(2030, 5, 14, 9, 0, tzinfo=ZoneInfo("Europe/London")),
        note="Bringing my CT report",
    )
    values.update(extra)
    return NewRequest(**values)


def count(store: RequestStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_migration_creates_the_tables_with_their_own_version_table(store):
    inspector = sa.inspect(store.engine)
    assert {"requests", "request_notes", "deletion_records", "event_purges", "answer_feedback",
            "alembic_version_requests"} <= set(inspector.get_table_names())
    columns = {c["name"]: c for c in inspector.get_columns("requests")}
    assert list(columns) == [
        "id", "reference", "kind", "status", "specialist", "full_name", "email", "phone",
        "preferred_time_text", "preferred_time", "note", "conversation_id", "channel",
        "idempotency_key", "assigned_to", "created_at", "updated_at", "notified_at",
        "notify_attempts", "last_notify_error",
    ]
    if store.dialect == "postgresql":
        assert str(columns["created_at"]["type"]) == "TIMESTAMP"
        assert columns["created_at"]["type"].timezone is True
    with store.engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version_requests")).scalar_one()
    assert version == "requests_0002"
    store.migrate()  # a second start changes nothing
    assert count(store, tables.requests) == 0


def test_submit_stores_every_field_and_returns_a_reference(store):
    stored = store.submit(booking(), now=T0)
    assert stored.created
    assert stored.reference.startswith("CL-") and len(stored.reference) == 9
    assert set(stored.reference[3:]) <= set(storage.REFERENCE_ALPHABET)
    again = store.get(stored.id)
    assert again.full_name == "Jane Smith" and again.phone == "+447700900123"
    assert again.status == "new" and again.notify_attempts == 0 and again.notified_at is None
    # 9:00 in London in May (BST) is 8:00 UTC, handed back as an aware UTC datetime
    assert again.preferred_time == datetime(2030, 5, 14, 8, 0, tzinfo=timezone.utc)
    assert again.created_at == T0 and again.created_at.tzinfo == timezone.utc


def test_the_same_idempotency_key_gives_back_the_first_request(store):
    first = store.submit(booking())
    second = store.submit(booking(full_name="Someone Else"))
    assert not second.created
    assert second.reference == first.reference and second.full_name == "Jane Smith"
    assert count(store, tables.requests) == 1


def test_concurrent_submits_of_one_request_store_one_row(store):
    barrier = threading.Barrier(6)

    def submit(_):
        barrier.wait()
        return store.submit(booking(key="race"))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(submit, range(6)))
    assert len({r.reference for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert count(store, tables.requests) == 1


def test_a_taken_reference_is_drawn_again(store, monkeypatch):
    taken = store.submit(booking(key="a")).reference
    draws = iter([taken, taken, "CL-NEWREF"])
    monkeypatch.setattr(storage, "new_reference", lambda: next(draws))
    assert store.submit(booking(key="b")).reference == "CL-NEWREF"
    assert count(store, tables.requests) == 2


def test_invalid_requests_are_refused_before_the_database():
    with pytest.raises(ValueError, match="kind"):
        booking(kind="lunch")
    with pytest.raises(ValueError, match="full_name"):
        booking(full_name="x" * 201)
    with pytest.raises(ValueError, match="time zone"):
        booking(preferred_time=datetime(2030, 1, 1, 9, 0))
    with pytest.raises(ValueError, match="conversation_id"):
        booking(conversation="")


def test_open_request_finds_the_newest_unhandled_one(store):
    assert store.open_request("conv-1", "handoff") is None
    handoff = store.submit(NewRequest("handoff", "conv-1", "rest", "h1"))
    store.submit(booking(key="b1"))
    assert store.open_request("conv-1", "handoff").reference == handoff.reference
    with store.engine.begin() as conn:
        conn.execute(tables.requests.update().values(status="contacted"))
    assert store.open_request("conv-1", "handoff") is None


def test_a_notification_attempt_is_claimed_once(store):
    request = store.submit(booking())
    assert store.claim_notification(request.id, 0, T0)
    assert not store.claim_notification(request.id, 0, T0)  # a second worker with the old count
    store.record_notify_failure(request.id, "slack: HTTP 500", T0)
    failed = store.get(request.id)
    assert failed.notify_attempts == 1 and failed.last_notify_error == "slack: HTTP 500"
    assert store.claim_notification(request.id, 1, T0)
    store.mark_notified(request.id, T0)
    done = store.get(request.id)
    assert done.notified_at == T0 and done.last_notify_error is None
    assert not store.claim_notification(request.id, 2, T0)


def test_due_notifications_back_off_exponentially(store):
    request = store.submit(booking(), now=T0)
    # never attempted: picked up only after the grace period
    assert store.due_notifications(T0 + timedelta(seconds=30), 5, 60) == []
    assert [r.id for r in store.due_notifications(T0 + timedelta(seconds=61), 5, 60)] == [request.id]
    for attempt in range(3):
        assert store.claim_notification(request.id, attempt, T0)
    # after the third attempt the next is due 60 * 2**2 = 240 s later
    assert store.due_notifications(T0 + timedelta(seconds=239), 5, 60) == []
    assert len(store.due_notifications(T0 + timedelta(seconds=240), 5, 60)) == 1
    # ... and never once the attempts are used up
    assert store.due_notifications(T0 + timedelta(days=2), 3, 60) == []


def test_forgetting_deletes_only_that_conversations_requests_notes_and_ratings(store):
    from storage.feedback import FeedbackStore

    ratings = FeedbackStore("", engine=store.engine)
    ratings.add("me", -1, "An answer", "telegram")
    ratings.add("someone-else", 1, "An answer", "socketio")
    mine = store.submit(booking(key="m1", conversation="me"))
    store.submit(NewRequest("handoff", "me", "rest", "m2"))
    other = store.submit(booking(key="o1", conversation="someone-else"))
    with store.engine.begin() as conn:
        conn.execute(tables.request_notes.insert().values(request_id=mine.id, author="nurse", body="called", created_at=T0))
        conn.execute(tables.request_notes.insert().values(request_id=other.id, author="nurse", body="left a message", created_at=T0))
    deleted = store.forget_conversation("me", "rest", T0, T0.timestamp() + 3, T0 + timedelta(seconds=1))
    assert deleted == 2
    assert [r.reference for r in store.for_conversation("someone-else")] == [other.reference]
    assert store.for_conversation("me") == []
    assert count(store, tables.request_notes) == 1
    with store.engine.connect() as conn:
        assert [r.conversation_id for r in conn.execute(tables.answer_feedback.select())] == ["someone-else"]
    [purge] = store.pending_purges()
    assert (purge.conversation_id, purge.deleted_requests, purge.passes) == ("me", 2, 0)
    assert store.due_purges(T0) == [] and store.due_purges(T0 + timedelta(seconds=1)) == [purge]


def test_the_migrations_create_exactly_the_declared_tables(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert [d for d in diff if d[0] != "remove_table"] == []  # others' tables (events, staff_*) aside
