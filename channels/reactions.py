"""A patient's 👍 / 👎 reaction on an answer in Telegram or Slack, kept as the widget's
thumbs are (storage/feedback.py, table ``answer_feedback``), so it lands on the message
in the staff console.

Only reactions by the conversation's own patient on an answer the assistant sent count;
removing a reaction, other emoji, answers no longer remembered (channels/sent_answers.py)
and answers no longer in the conversation (deleted on request) are ignored. The answer's
text comes from Rasa's tracker store, where it is kept anyway; the store is written in a
worker thread: the event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable, Optional

from channels import sent_answers
from storage.ids import log_ref

logger = logging.getLogger(__name__)

TELEGRAM_EMOJI = {"👍": 1, "👎": -1}
# Slack names the reaction; "+1" and "-1" are its canonical thumbs, with skin tones as "+1::skin-tone-2".
SLACK_NAMES = {"+1": 1, "thumbsup": 1, "-1": -1, "thumbsdown": -1}


def telegram_rating(new_reaction: Any) -> Optional[int]:
    """+1, -1 or None from a ``message_reaction`` update's ``new_reaction`` list."""
    found = {TELEGRAM_EMOJI[r["emoji"]] for r in new_reaction if isinstance(r, dict)
             and r.get("type") == "emoji" and r.get("emoji") in TELEGRAM_EMOJI} if isinstance(new_reaction, list) else set()
    return found.pop() if len(found) == 1 else None  # none, or both at once: not a rating


def slack_rating(name: Any) -> Optional[int]:
    return SLACK_NAMES.get(name.split("::", 1)[0]) if isinstance(name, str) else None


def remember(channel: str, chat: object, message_id: object, conversation_id: str, answer: str) -> None:
    """Called by an output channel for each answer it sent."""
    if message_id is None or not isinstance(answer, str) or not answer.strip():
        return
    sent_answers.current().remember(sent_answers.key(channel, chat, message_id), conversation_id, answer)


async def answer_in_conversation(app: Any, conversation_id: str, answer_digest: str) -> Optional[str]:
    """The text of the assistant's message with that digest in the conversation, newest first."""
    from rasa.shared.core.events import BotUttered

    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    tracker = await store.retrieve_full_tracker(conversation_id)
    for event in reversed(tracker.events if tracker is not None else []):
        if isinstance(event, BotUttered) and event.text and sent_answers.digest(event.text) == answer_digest:
            return event.text
    return None


class Ratings:
    """Looks a reaction's message up and stores the rating; one per input channel."""

    def __init__(self, channel: str, store: Any = None) -> None:
        self.channel = channel
        self._store = store
        self.app: Any = None  # Rasa's Sanic app, set when the server starts: its agent has the tracker store

    def bind(self, app: Any) -> None:
        self.app = app

    def store(self) -> Any:
        if self._store is None:
            from clinic import settings as clinic
            from storage.feedback import FeedbackStore

            self._store = FeedbackStore(clinic.database_url())
        return self._store

    async def rate(self, chat: object, message_id: object, rating: Optional[int],
                   patients: Iterable[str]) -> bool:
        """Store ``rating`` for the answer sent as ``message_id`` in ``chat``, if the reacting
        patient (one of the conversation ids ``patients``) is the one it was sent to."""
        if rating is None:
            return False
        found = sent_answers.current().recall(sent_answers.key(self.channel, chat, message_id))
        if found is None:
            logger.info("A %s reaction on an answer no longer remembered was ignored", self.channel)
            return False
        conversation_id, answer_digest = found
        if conversation_id not in set(patients):
            logger.info("A %s reaction from someone else than conversation %s was ignored", self.channel,
                        log_ref(conversation_id))
            return False
        try:
            answer = await answer_in_conversation(self.app, conversation_id, answer_digest)
        except Exception as exc:  # noqa: BLE001 - the tracker store is away: only the rating is lost
            logger.warning("A %s rating could not be matched to its answer: %s", self.channel, type(exc).__name__)
            return False
        if answer is None:
            logger.info("A %s reaction on an answer no longer in conversation %s was ignored", self.channel,
                        log_ref(conversation_id))
            return False
        from storage.feedback import FeedbackUnavailable

        try:
            await asyncio.get_running_loop().run_in_executor(
                None, self.store().add, conversation_id, rating, answer, self.channel)
        except FeedbackUnavailable:
            return False
        return True

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
