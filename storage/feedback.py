"""Patients' thumbs up / down on the assistant's answers (table ``answer_feedback``).

Written by the widget (the web app's ``POST /widget/feedback``) and by Rasa's Telegram and
Slack channels (a 👍 or 👎 reaction on an answer); read by the staff console, which shows
the rating on the message, filters conversations with a negative one and counts them.
The answer is kept as the patient saw it, whitespace folded, so the console finds the
message it belongs to.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.tables import answer_feedback
from storage.text import printable
from storage.time import utcnow

logger = logging.getLogger(__name__)

MAX_ANSWER = 2000  # characters of the answer kept with the rating
RATINGS = {"up": 1, "down": -1}


class FeedbackUnavailable(RuntimeError):
    """The rating could not be stored (no table yet, database down); nothing was written."""


def answer_key(answer: str) -> str:
    """The answer as stored and matched: printable, whitespace folded, at most MAX_ANSWER."""
    return printable(" ".join(answer.split())[:MAX_ANSWER])


class FeedbackStore:
    """Adds ratings; the engine is made on first use (Rasa's channels may never need it)."""

    def __init__(self, database_url: str, engine: Optional[Engine] = None) -> None:
        self.database_url = database_url
        self._engine = engine
        self._lock = threading.Lock()

    def _engine_now(self) -> Engine:
        from storage.engine import create_engine

        with self._lock:
            if self._engine is None:
                self._engine = create_engine(self.database_url)
            return self._engine

    def add(self, conversation_id: str, rating: int, answer: str, channel: str) -> None:
        if rating not in RATINGS.values():
            raise ValueError("rating must be +1 or -1")
        try:
            with self._engine_now().begin() as conn:
                conn.execute(answer_feedback.insert().values(
                    conversation_id=conversation_id[:255], rating=rating, answer=answer_key(answer),
                    channel=channel[:40], created_at=utcnow()))
        except sa.exc.SQLAlchemyError as exc:
            # e.g. the action server (which migrates this table) has not started yet
            logger.warning("A patient's rating could not be stored: %s", type(exc).__name__)
            raise FeedbackUnavailable("the rating could not be stored") from exc

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
