"""The one input guard every channel passes a patient's message through.

Before Rasa, its tracker store or any of our stores sees a message:

* the text is made valid Unicode (lone UTF-16 surrogates, which cannot be encoded
  and made Rasa's SQL tracker store exit, become U+FFFD; NUL and other control
  characters are dropped), normalised (NFC) and cut to ``MAX_MESSAGE_CHARS``;
  understanding time grows with about the square of a message's length, so the cap
  keeps one message from occupying Rasa for minutes;
* a sender id is refused unless it is printable text of at most ``MAX_SENDER_CHARS``
  characters (cleaning it instead could merge two people's conversations);
* a request body is refused unless it is a JSON object of at most ``MAX_BODY_BYTES``.

Channels: REST (channels/rest.py), the widget's socket.io (channels/socketio.py),
Telegram and Slack (channels/telegram.py, channels/slack.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Optional

MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 1_000_000  # a pasted letter fits; the text is then cut to MAX_MESSAGE_CHARS

CUT_NOTICE = (
    f"Your message was long, so I read only its first {MAX_MESSAGE_CHARS:,} characters. "
    "If something important came after that, please send it in a separate message."
)
# A turn that failed (the conversation store or the lock store unreachable): not handled,
# so the patient is asked to send it again rather than left without a word.
UNAVAILABLE_NOTICE = "The assistant is briefly unavailable. Please try again in a minute."

_SURROGATES = re.compile(r"[\ud800-\udfff]")
# C0 and C1 controls except tab, newline and carriage return.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InputRejected(ValueError):
    """A request the guard refuses; ``str(exc)`` is safe to show the client."""


@dataclass(frozen=True)
class Guarded:
    text: str
    cut: bool  # True when the patient should be told that the message was shortened


def clean_message(raw: Any) -> Guarded:
    """The message as Rasa may see it. Linear time in the length of ``raw``."""
    if raw is None:
        return Guarded("", False)
    if not isinstance(raw, str):
        raise InputRejected("message must be a string")
    # Work on a bounded slice first: normalising megabytes only to drop them is wasted time.
    head = raw[: MAX_MESSAGE_CHARS * 2]
    text = _CONTROLS.sub("", _SURROGATES.sub("\ufffd", head))
    text = unicodedata.normalize("NFC", text)
    cut = len(raw) > len(head) or len(text) > MAX_MESSAGE_CHARS
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS]
    return Guarded(text, cut)


def check_sender(raw: Any) -> str:
    """A sender id as given, or InputRejected saying what is wrong with it."""
    if not isinstance(raw, str):
        raise InputRejected("sender must be a string")
    if not raw.strip():
        raise InputRejected("sender must not be empty")
    if len(raw) > MAX_SENDER_CHARS:
        raise InputRejected(f"sender must be at most {MAX_SENDER_CHARS} characters")
    if not raw.isprintable():  # control characters, lone surrogates, line breaks
        raise InputRejected("sender must be printable text")
    return raw


def json_object(body: Optional[bytes], limit: int = MAX_BODY_BYTES) -> Dict[str, Any]:
    """The decoded body, which must be a JSON object of at most ``limit`` bytes."""
    body = body or b""
    if len(body) > limit:
        raise InputRejected(f"the body must be at most {limit} bytes")
    if not body.strip():
        raise InputRejected("the body must be a JSON object, e.g. {\"sender\": \"...\", \"message\": \"...\"}")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InputRejected("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InputRejected("the body must be a JSON object")
    return payload


def metadata_object(raw: Any) -> Dict[str, Any]:
    """Metadata must be a JSON object (or absent)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputRejected("metadata must be a JSON object")
    return raw
