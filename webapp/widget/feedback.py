"""Thumbs up / down from the website widget on one of the assistant's answers.

``POST /widget/feedback`` with ``{"token": ..., "answer": <the answer's text>, "rating": "up"|"down"}``:
the browser's token proves the conversation (as for the history), so nobody can rate
someone else's answers. The row lands in ``staff_feedback``, which the staff console shows
on the message, filters by and counts on its dashboard.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from sqlalchemy.engine import Engine

from storage.text import printable
from storage.time import utcnow

MAX_ANSWER = 2000  # characters of the answer kept with the rating
RATINGS = {"up": 1, "down": -1}


class FeedbackError(ValueError):
    """A request the endpoint refuses; ``str()`` is safe to show the client."""


def check(payload: Any) -> tuple:
    """(rating, answer) from a request body, or FeedbackError."""
    if not isinstance(payload, dict):
        raise FeedbackError("the body must be a JSON object")
    rating = RATINGS.get(payload.get("rating"))
    if rating is None:
        raise FeedbackError('rating must be "up" or "down"')
    answer = payload.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        raise FeedbackError("answer must be the text of the answer rated")
    return rating, printable(" ".join(answer.split())[:MAX_ANSWER])


class FeedbackStore:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine: Optional[Engine] = None
        self._lock = threading.Lock()

    def _engine_now(self) -> Engine:
        from storage.engine import create_engine

        with self._lock:
            if self._engine is None:
                self._engine = create_engine(self.database_url)
            return self._engine

    def add(self, conversation_id: str, rating: int, answer: str, channel: str = "socketio") -> None:
        from webapp.staff import tables as t

        with self._engine_now().begin() as conn:
            conn.execute(t.feedback.insert().values(conversation_id=conversation_id, rating=rating, answer=answer,
                                                    channel=channel, created_at=utcnow()))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
