"""The request store: appointment, second-opinion and hand-off requests for staff,
and the "forget me" deletions (tables in storage/tables.py).

The action server files and notifies requests through it; the staff console forgets
conversations through it. SQLAlchemy runs synchronously: async callers use
``storage.engine.run_sync``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage.engine import create_engine, migrate
from storage.ids import conversation_hash
from storage.tables import KINDS, answer_feedback, deletion_records, event_purges, events, request_notes, requests
from storage.time import utcnow

logger = logging.getLogger(__name__)

# Unambiguous characters for references read out over the phone (no 0/O, 1/I).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "CL-"
REFERENCE_LENGTH = 6


class StorageError(Exception):
    """The request store could not do what was asked."""


_LIMITS = {
    "specialist": 100, "full_name": 200, "email": 254, "phone": 40,
    "preferred_time_text": 200, "conversation_id": 255, "channel": 40, "idempotency_key": 64,
}


def idempotency_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH)
    )


@dataclass(frozen=True)
class NewRequest:
    kind: str
    conversation_id: str
    channel: str
    idempotency_key: str
    specialist: Optional[str] = None
    full_name: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    preferred_time_text: Optional[str] = None
    preferred_time: Optional[datetime] = None
    note: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown request kind {self.kind!r}")
        for name in ("conversation_id", "channel", "idempotency_key"):
            if not getattr(self, name):
                raise ValueError(f"{name} is required")
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                raise ValueError(f"{name} is longer than {limit} characters")
        if self.preferred_time is not None and self.preferred_time.tzinfo is None:
            raise ValueError("preferred_time needs a time zone")


@dataclass(frozen=True)
class StoredRequest:
    id: int
    reference: str
    kind: str
    status: str
    specialist: Optional[str]
    full_name: Optional[str]
    email: Optional[str]
    phone: Optional[str]
    preferred_time_text: Optional[str]
    preferred_time: Optional[datetime]
    note: Optional[str]
    conversation_id: str
    channel: str
    idempotency_key: str
    assigned_to: Optional[str]
    created_at: datetime
    updated_at: datetime
    notified_at: Optional[datetime]
    notify_attempts: int
    last_notify_error: Optional[str]
    created: bool = False  # True only for the call that inserted the row

    @classmethod
    def from_row(cls, row: Any, created: bool = False) -> "StoredRequest":
        data = dict(row._mapping)
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name != "created"},
                   created=created)


@dataclass(frozen=True)
class PendingPurge:
    id: int
    conversation_id: str
    requested_via: str
    deleted_requests: int
    deleted_events: int
    cutoff: float
    passes: int
    due_at: datetime
    created_at: datetime


class RequestStore:
    """Requests for staff and "forget me" deletions, in one SQL database."""

    def __init__(self, database_url: str, engine: Optional[Engine] = None) -> None:
        self.engine = engine or create_engine(database_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the request tables to the newest revision (alembic_version_requests)."""
        migrate(self.engine, "requests")

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ requests
    def submit(self, new: NewRequest, now: Optional[datetime] = None) -> StoredRequest:
        """Store a request once: the same idempotency key returns the existing row."""
        existing = self.by_idempotency_key(new.idempotency_key)
        if existing:
            return existing
        now = now or utcnow()
        values = {f.name: getattr(new, f.name) for f in fields(new)}
        for _ in range(5):
            reference = new_reference()
            try:
                with self.engine.begin() as conn:
                    result = conn.execute(requests.insert().values(
                        **values, reference=reference, status="new", created_at=now,
                        updated_at=now, notify_attempts=0,
                    ))
                    request_id = result.inserted_primary_key[0]
                    row = conn.execute(
                        requests.select().where(requests.c.id == request_id)
                    ).one()
                stored = StoredRequest.from_row(row, created=True)
                logger.info("Stored %s request %s", stored.kind, stored.reference)
                return stored
            except IntegrityError:
                # Either the same request arrived concurrently (same key) or, rarely,
                # the reference was taken: find the first, else draw a new reference.
                existing = self.by_idempotency_key(new.idempotency_key)
                if existing:
                    return existing
        raise StorageError("could not find a free request reference")

    def _one(self, where) -> Optional[StoredRequest]:
        with self.engine.connect() as conn:
            row = conn.execute(requests.select().where(where)).first()
        return StoredRequest.from_row(row) if row else None

    def get(self, request_id: int) -> Optional[StoredRequest]:
        return self._one(requests.c.id == request_id)

    def by_reference(self, reference: str) -> Optional[StoredRequest]:
        return self._one(requests.c.reference == reference)

    def by_idempotency_key(self, key: str) -> Optional[StoredRequest]:
        return self._one(requests.c.idempotency_key == key)

    def open_request(self, conversation_id: str, kind: str) -> Optional[StoredRequest]:
        """The newest request of this kind from this conversation that staff have not handled."""
        with self.engine.connect() as conn:
            row = conn.execute(
                requests.select()
                .where(requests.c.conversation_id == conversation_id,
                       requests.c.kind == kind, requests.c.status == "new")
                .order_by(requests.c.id.desc())
            ).first()
        return StoredRequest.from_row(row) if row else None

    def add_contact(self, request_id: int, email: Optional[str], phone: Optional[str],
                    now: Optional[datetime] = None) -> Optional[StoredRequest]:
        """Give a request the patient's e-mail and/or phone (a call-back for a hand-off);
        what is not given keeps its value."""
        values: Dict[str, Any] = {k: v for k, v in (("email", email), ("phone", phone)) if v}
        for name, value in values.items():
            if len(value) > _LIMITS[name]:
                raise ValueError(f"{name} is longer than {_LIMITS[name]} characters")
        if values:
            with self.engine.begin() as conn:
                conn.execute(requests.update().where(requests.c.id == request_id)
                             .values(**values, updated_at=now or utcnow()))
        return self.get(request_id)

    def for_conversation(self, conversation_id: str) -> List[StoredRequest]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                requests.select().where(requests.c.conversation_id == conversation_id)
                .order_by(requests.c.id)
            ).all()
        return [StoredRequest.from_row(r) for r in rows]

    # ------------------------------------------------------------- notifications
    def claim_notification(self, request_id: int, seen_attempts: int,
                           now: Optional[datetime] = None) -> bool:
        """Count one notification attempt, unless another worker got there first."""
        with self.engine.begin() as conn:
            result = conn.execute(
                requests.update()
                .where(requests.c.id == request_id,
                       requests.c.notify_attempts == seen_attempts,
                       requests.c.notified_at.is_(None))
                .values(notify_attempts=seen_attempts + 1, updated_at=now or utcnow())
            )
        return result.rowcount == 1

    def mark_notified(self, request_id: int, now: Optional[datetime] = None) -> None:
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(requests.update().where(requests.c.id == request_id)
                         .values(notified_at=now, last_notify_error=None, updated_at=now))

    def record_notify_failure(self, request_id: int, error: str,
                              now: Optional[datetime] = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(requests.update().where(requests.c.id == request_id)
                         .values(last_notify_error=error[:1000], updated_at=now or utcnow()))

    def due_notifications(self, now: datetime, max_attempts: int, base_seconds: float,
                          first_grace_seconds: float = 60.0, limit: int = 100
                          ) -> List[StoredRequest]:
        """Requests whose staff notification failed (or never ran) and is due again.

        After attempt n the next is due base * 2**(n-1) seconds later (capped at a
        day); a request never attempted is picked up once it is older than the grace
        period (the action that stored it notifies it itself).
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                requests.select()
                .where(requests.c.notified_at.is_(None), requests.c.status == "new",
                       requests.c.notify_attempts < max_attempts)
                .order_by(requests.c.updated_at).limit(limit)
            ).all()
        due = []
        for row in rows:
            request = StoredRequest.from_row(row)
            if request.notify_attempts == 0:
                wait = first_grace_seconds
                since = request.created_at
            else:
                wait = min(base_seconds * 2 ** (request.notify_attempts - 1), 86400.0)
                since = request.updated_at
            if since + timedelta(seconds=wait) <= now:
                due.append(request)
        return due

    # ---------------------------------------------------------------- forget me
    def forget_conversation(self, conversation_id: str, requested_via: str, now: datetime,
                            cutoff: float, first_pass_at: datetime) -> int:
        """Delete the conversation's requests and answer ratings now; queue the purge of its events.

        Returns the number of requests deleted. The events are deleted by
        ``purge_pass`` (see storage/forgetting.py for why not here).
        """
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(
                sa.select(requests.c.id).where(requests.c.conversation_id == conversation_id)
            )]
            if ids:
                conn.execute(request_notes.delete().where(request_notes.c.request_id.in_(ids)))
                conn.execute(requests.delete().where(requests.c.id.in_(ids)))
            conn.execute(answer_feedback.delete().where(answer_feedback.c.conversation_id == conversation_id))
            conn.execute(event_purges.insert().values(
                conversation_id=conversation_id, requested_via=requested_via[:40],
                deleted_requests=len(ids), deleted_events=0, cutoff=cutoff, passes=0,
                due_at=first_pass_at, created_at=now,
            ))
        logger.info("Deleted %d request(s) of a conversation on request; events queued", len(ids))
        return len(ids)

    def due_purges(self, now: datetime) -> List[PendingPurge]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                event_purges.select().where(event_purges.c.due_at <= now)
                .order_by(event_purges.c.due_at)
            ).all()
        return [PendingPurge(**dict(r._mapping)) for r in rows]

    def pending_purges(self) -> List[PendingPurge]:
        with self.engine.connect() as conn:
            rows = conn.execute(event_purges.select().order_by(event_purges.c.id)).all()
        return [PendingPurge(**dict(r._mapping)) for r in rows]

    def purge_pass(self, purge: PendingPurge, next_due: Optional[datetime]) -> bool:
        """Delete the conversation's events up to the cutoff; False if another worker did.

        With ``next_due`` None this is the last pass: the purge becomes a
        deletion record (hash of the id, counts, when) and the id is forgotten.
        """
        with self.engine.begin() as conn:
            claimed = conn.execute(
                event_purges.update()
                .where(event_purges.c.id == purge.id, event_purges.c.passes == purge.passes)
                .values(passes=purge.passes + 1)
            ).rowcount == 1
            if not claimed:
                return False
            deleted = 0
            if sa.inspect(conn).has_table("events"):
                deleted = conn.execute(
                    events.delete().where(
                        events.c.sender_id == purge.conversation_id,
                        events.c.timestamp <= purge.cutoff,
                    )
                ).rowcount
            total = purge.deleted_events + max(deleted, 0)
            if next_due is None:
                conn.execute(deletion_records.insert().values(
                    conversation_hash=conversation_hash(purge.conversation_id),
                    requested_via=purge.requested_via,
                    deleted_requests=purge.deleted_requests,
                    deleted_events=total,
                    created_at=purge.created_at,
                ))
                conn.execute(event_purges.delete().where(event_purges.c.id == purge.id))
            else:
                conn.execute(event_purges.update().where(event_purges.c.id == purge.id)
                             .values(deleted_events=total, due_at=next_due))
        if next_due is None:
            logger.info("Forgot a conversation: %d event(s), %d request(s) deleted",
                        total, purge.deleted_requests)
        return True

    def deletion_records(self) -> List[Dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(deletion_records.select().order_by(deletion_records.c.id)).all()
        return [dict(r._mapping) for r in rows]
