""""Forget me": a conversation's requests are deleted at once, its events in passes,
and the deletion is recorded (sha256 of the conversation id, counts, when).

Why the events go a moment later, not at once: Rasa's SQL tracker store saves a turn
by counting the rows it already has for the conversation and appending the
tracker's events beyond that count. Rows deleted while the turn is still running
would therefore be written back at its end. So the requests go at once and a purge
is queued (table ``event_purges``); the action server's background loop deletes
every event of the conversation up to ``CUTOFF_SECONDS`` after the request, in
passes ``PURGE_PASSES`` seconds later (a later pass catches rows a concurrent turn
wrote back), then records the deletion and forgets the conversation id. The queue
is in the database, so a restart finishes it. The console, with no turn of the
patient's in flight, runs the first pass at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from storage.requests import PendingPurge, RequestStore
from storage.time import utcnow

# Seconds after the request at which the event purges run; the last one records it.
PURGE_PASSES = (1.0, 5.0, 30.0)
# Events up to this long after the request belong to the deleted conversation (the
# rest of the turn that confirmed it).
CUTOFF_SECONDS = 3.0


def start_forgetting(store: RequestStore, conversation_id: str, requested_via: str,
                     now: Optional[datetime] = None, first_pass_now: bool = False) -> int:
    """Delete the conversation's requests and queue the purge of its events.

    ``first_pass_now`` (staff, with no turn in flight) runs the first pass at once;
    a patient's own request waits ``PURGE_PASSES[0]`` for its turn to end.
    Returns the number of requests deleted.
    """
    now = now or utcnow()
    first = now if first_pass_now else now + timedelta(seconds=PURGE_PASSES[0])
    deleted = store.forget_conversation(conversation_id, requested_via, now,
                                        now.timestamp() + CUTOFF_SECONDS, first)
    if first_pass_now:
        run_due_purges(store, now)
    return deleted


def next_pass_due(purge: PendingPurge) -> Optional[datetime]:
    following = purge.passes + 1
    if following >= len(PURGE_PASSES):
        return None
    return purge.created_at + timedelta(seconds=PURGE_PASSES[following])


def run_due_purges(store: RequestStore, now: Optional[datetime] = None) -> int:
    """Run every purge pass that is due; returns how many ran."""
    ran = 0
    for purge in store.due_purges(now or utcnow()):
        if store.purge_pass(purge, next_pass_due(purge)):
            ran += 1
    return ran
