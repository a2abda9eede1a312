"""Thumbs up / down from the website widget on one of the assistant's answers.

``POST /widget/feedback`` with ``{"token": ..., "answer": <the answer's text>, "rating": "up"|"down"}``:
the browser's token proves the conversation (as for the history), so nobody can rate
someone else's answers, and the answer must be one the assistant gave in it (as the history
shows it), so a rating cannot carry made-up text nor outlive a conversation deleted on request. The row lands in ``answer_feedback`` (storage/feedback.py), which
the staff console shows on the message, filters by and counts on its dashboard.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable

from storage.feedback import RATINGS, answer_key


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
    return rating, answer_key(answer)


def is_answer(messages: Iterable[Dict[str, Any]], answer: str) -> bool:
    """Is ``answer`` one of the assistant's own messages (not a staff member's) in the history?"""
    key = answer_key(answer)
    return any(m.get("sender") == "bot" and m.get("author") != "staff" and isinstance(m.get("text"), str)
               and answer_key(m["text"]) == key for m in messages)
