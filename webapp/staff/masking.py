"""Hiding personal data (names, e-mail addresses, phone numbers) in what staff see.

Known values come from the conversation itself (slots such as ``full_name`` or
``email``, and the requests it made); patterns catch e-mail addresses, phone
numbers and "my name is ..." introductions that never reached a slot.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Set

PERSONAL_SLOTS = frozenset({
    "full_name", "name", "first_name", "last_name", "email", "phone", "phone_number",
})
PERSONAL_ENTITIES = PERSONAL_SLOTS | {"person", "PERSON"}

EMAIL_TOKEN, PHONE_TOKEN, NAME_TOKEN, HIDDEN_TOKEN = "‹email›", "‹phone›", "‹name›", "‹hidden›"

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 7 or more digits, optionally separated by spaces, dots, dashes, slashes or brackets.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[\s\-./()]{0,2}\d){6,}(?!\w)")
DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
NAME_INTRO_RE = re.compile(
    r"(?i:\b(?:my name is|my name's|name is|i am called|i'm called|call me)\s+)"
    r"([A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,2})"
)
# for lower-cased text (dashboard groups): the one or two words after the introduction
NAME_INTRO_LOWER_RE = re.compile(
    r"(?i:\b(?:my name is|my name's|name is|i am called|i'm called|call me)\s+)"
    r"([\w'\-]+(?:\s+[\w'\-]+)?)"
)


def _phone(match: "re.Match[str]") -> str:
    found = match.group(0)
    return found if DATE_RE.fullmatch(found.strip("()")) else PHONE_TOKEN


class Masker:
    """Replaces personal data in text. ``Masker.off()`` returns text unchanged."""

    def __init__(self, names: Iterable[str] = (), emails: Iterable[str] = (),
                 phones: Iterable[str] = (), enabled: bool = True, lowercase: bool = False) -> None:
        self.enabled = enabled
        self._intro = NAME_INTRO_LOWER_RE if lowercase else NAME_INTRO_RE
        self._patterns: List[tuple] = []
        whole: Set[str] = set()
        parts: Set[str] = set()
        for name in names:
            name = " ".join(str(name).split())
            if len(name) >= 2:
                whole.add(name)
                # "Anna" alone is masked too, but only capitalised, so that a
                # surname like "Stone" leaves "kidney stone" readable.
                parts.update(p for p in name.split(" ") if len(p) >= 3)
        others = {str(v).strip() for v in list(emails) + list(phones) if len(str(v).strip()) >= 4}
        for value in sorted(whole | others, key=len, reverse=True):
            token = NAME_TOKEN if value in whole else (EMAIL_TOKEN if "@" in value else PHONE_TOKEN)
            self._patterns.append((re.compile(_bounded(value), re.IGNORECASE), token))
        for part in sorted(parts, key=len, reverse=True):
            flags = re.IGNORECASE if lowercase else 0
            self._patterns.append((re.compile(_bounded(part), flags), NAME_TOKEN))

    @classmethod
    def off(cls) -> "Masker":
        return cls(enabled=False)

    def __call__(self, text: Optional[str]) -> str:
        if text is None:
            return ""
        text = str(text)
        if not self.enabled:
            return text
        for pattern, token in self._patterns:
            text = pattern.sub(token, text)
        text = EMAIL_RE.sub(EMAIL_TOKEN, text)
        text = PHONE_RE.sub(_phone, text)
        return self._intro.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + NAME_TOKEN, text)

    def slot(self, name: str, value) -> str:
        if value is None:
            return "None"
        if self.enabled and name in PERSONAL_SLOTS:
            return HIDDEN_TOKEN
        return self(value if isinstance(value, str) else _plain(value))

    def entity(self, entity: str, value) -> str:
        if self.enabled and entity in PERSONAL_ENTITIES:
            return HIDDEN_TOKEN
        return self(value if isinstance(value, str) else _plain(value))


def _bounded(value: str) -> str:
    escaped = re.escape(value)
    start = r"(?<!\w)" if value[:1].isalnum() else ""
    end = r"(?!\w)" if value[-1:].isalnum() else ""
    return start + escaped + end


def _plain(value) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def masker_for(slot_values: Dict[str, Iterable[str]], requests: Iterable, enabled: bool = True,
               lowercase: bool = False) -> Masker:
    """A masker for one conversation: its personal slots and its requests' contact data."""
    names, emails, phones = [], [], []
    for slot, values in slot_values.items():
        for value in values:
            if not isinstance(value, str):
                continue
            if slot in ("email",):
                emails.append(value)
            elif slot in ("phone", "phone_number"):
                phones.append(value)
            else:
                names.append(value)
    for req in requests:
        if getattr(req, "full_name", None):
            names.append(req.full_name)
        if getattr(req, "email", None):
            emails.append(req.email)
        if getattr(req, "phone", None):
            phones.append(req.phone)
    return Masker(names, emails, phones, enabled=enabled, lowercase=lowercase)
