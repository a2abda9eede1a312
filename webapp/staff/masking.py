"""Hiding personal data (names, e-mail addresses, phone numbers) in what staff see.

Which slots, request fields and entities hold personal data is declared once, in
storage/personal_data.py; this module has no list of its own. Known values come from
the conversation itself (its personal slots and the requests it made); patterns catch
e-mail addresses, phone numbers and "my name is ..." introductions that never reached
a slot.

Every step is linear in the length of the text, because anyone can send a message of
any length and staff open it: known values are found with ``str.find`` (skipping ahead
when a word boundary fails), e-mail addresses are anchored on their "@", and the
remaining patterns repeat a bounded number of times. No regex rescans the rest of the
text from every position.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from storage.personal_data import (CONTACT, EMAIL, FREE_TEXT, NAME, PERSONAL_ENTITIES,
                                   PERSONAL_REQUEST_FIELDS, PERSONAL_SLOTS, PHONE)
from storage.text import printable

__all__ = ["Masker", "masker_for", "PERSONAL_SLOTS", "PERSONAL_ENTITIES", "PERSONAL_REQUEST_FIELDS",
           "EMAIL_TOKEN", "PHONE_TOKEN", "NAME_TOKEN", "HIDDEN_TOKEN"]

EMAIL_TOKEN, PHONE_TOKEN, NAME_TOKEN, HIDDEN_TOKEN = "‹email›", "‹phone›", "‹name›", "‹hidden›"
TOKENS = {NAME: NAME_TOKEN, EMAIL: EMAIL_TOKEN, PHONE: PHONE_TOKEN, CONTACT: HIDDEN_TOKEN,
          FREE_TEXT: HIDDEN_TOKEN}
MIN_VALUE = 4  # shorter e-mails, numbers or notes ("ok") would hide ordinary words
# Longer values are hidden as whole slot and field values only. The booking form takes
# names up to 100 and notes up to 1000 characters; this bounds the work per position.
MAX_VALUE = 1000

# E-mail: a run of local-part characters directly before "@", then a domain. Finding
# the runs once (finditer continues after each run) keeps this linear, where
# "[...]+@" would rescan a long run without "@" from each of its positions.
_LOCAL_RUN = re.compile(r"[A-Za-z0-9._%+\-]+")
_DOMAIN = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 7 to 31 digits, optionally separated by spaces, dots, dashes, slashes or brackets.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[\s\-./()]{0,2}\d){6,30}(?!\w)")
DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_INTRO = r"(?i:\b(?:my name is|my name's|name is|i am called|i'm called|call me)\s{1,10})"
NAME_INTRO_RE = re.compile(_INTRO + r"([A-Z][\w'\-]{1,60}(?:\s{1,10}[A-Z][\w'\-]{1,60}){0,2})")
# for lower-cased text (dashboard groups): the one or two words after the introduction
NAME_INTRO_LOWER_RE = re.compile(_INTRO + r"([\w'\-]{1,60}(?:\s{1,10}[\w'\-]{1,60})?)")
_NON_WORD = re.compile(r"\W")
_SPACES = re.compile(r"\s+")
_ODD_SPACE = re.compile(r"[^\S ]| {2}")


def _phone(match: "re.Match[str]") -> str:
    found = match.group(0)
    return found if DATE_RE.fullmatch(found.strip("()")) else PHONE_TOKEN


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches in a str pattern


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    low = char.lower()
    return low if len(low) == 1 else char


def _fold(text: str) -> str:
    """Lower case of the same length, so that offsets stay valid. ``str.lower`` lengthens
    "İ" and lowers a capital sigma by its context; such texts go character by character."""
    low = text.lower()
    if len(low) == len(text) and "Σ" not in text:
        return low
    return "".join(map(_fold_char, text))


def _squeeze(text: str) -> Tuple[str, Optional[List[int]]]:
    """The text with each run of white space as one space, and the offset in ``text`` of
    each of its characters (None: unchanged). Slot values are stored with single spaces;
    the message they came from may have had more."""
    if not _ODD_SPACE.search(text):
        return text, None
    pieces: List[str] = []
    offsets: List[int] = []
    last = 0
    for match in _SPACES.finditer(text):
        pieces += [text[last:match.start()], " "]
        offsets.extend(range(last, match.start()))
        offsets.append(match.start())
        last = match.end()
    pieces.append(text[last:])
    offsets.extend(range(last, len(text)))
    return "".join(pieces), offsets


def _known_spans(text: str, folded: str, needles: Sequence[Tuple[str, str, bool]]) -> List[Tuple[int, int, str]]:
    """Where the known values occur as whole words, longest value first, not overlapping.
    ``needles``: (value, token, case-insensitive); insensitive ones are searched in ``folded``."""
    starts: List[int] = []
    ends: List[int] = []
    tokens: List[str] = []
    for needle, token, insensitive in needles:
        hay = folded if insensitive else text
        left, right = _is_word(needle[0]), _is_word(needle[-1])
        found: List[Tuple[int, int, str]] = []
        pos = hay.find(needle)
        while pos != -1:
            end = pos + len(needle)
            ok = (not left or pos == 0 or not _is_word(text[pos - 1])) and (
                not right or end == len(text) or not _is_word(text[end]))
            if ok:
                i = bisect.bisect_left(starts, end) - 1
                ok = i < 0 or ends[i] <= pos
            if ok:
                found.append((pos, end, token))
                nxt = end
            elif left:
                # a later match must follow a non-word character: skip to the next one,
                # so that a long run of letters is not searched again from each position
                gap = _NON_WORD.search(text, pos)
                if gap is None:
                    break
                nxt = gap.end()
            else:
                nxt = pos + 1
            pos = hay.find(needle, nxt)
        if found:
            merged = sorted(list(zip(starts, ends, tokens)) + found)
            starts, ends, tokens = [m[0] for m in merged], [m[1] for m in merged], [m[2] for m in merged]
    return list(zip(starts, ends, tokens))


def _mask_emails(text: str) -> str:
    if "@" not in text:
        return text
    out: List[str] = []
    last = 0
    for run in _LOCAL_RUN.finditer(text):
        at = run.end()
        if at >= len(text) or text[at] != "@":
            continue
        start = max(run.start(), last)  # what an earlier address's domain took is not reused
        if start >= at:
            continue
        domain = _DOMAIN.match(text, at + 1)
        if domain:
            out += [text[last:start], EMAIL_TOKEN]
            last = domain.end()
    out.append(text[last:])
    return "".join(out)


class Masker:
    """Replaces personal data in text. ``Masker.off()`` returns text unchanged (but
    printable: lone surrogates, NUL and control characters replaced, as always)."""

    def __init__(self, names: Iterable[str] = (), emails: Iterable[str] = (),
                 phones: Iterable[str] = (), enabled: bool = True, lowercase: bool = False,
                 hidden: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._intro = NAME_INTRO_LOWER_RE if lowercase else NAME_INTRO_RE
        whole: Dict[str, str] = {}
        parts = set()
        for name in names:
            name = _clean_value(name)
            if 2 <= len(name) <= MAX_VALUE:
                whole.setdefault(_fold(name), NAME_TOKEN)
                # "Anna" alone is masked too, but only capitalised, so that a
                # surname like "Stone" leaves "kidney stone" readable.
                parts.update(p for p in name.split(" ") if len(p) >= 3)
        for values, token in ((emails, EMAIL_TOKEN), (phones, PHONE_TOKEN), (hidden, HIDDEN_TOKEN)):
            for value in values:
                value = _clean_value(value)
                if MIN_VALUE <= len(value) <= MAX_VALUE:
                    whole.setdefault(_fold(value), token)
        self._needles = [(value, token, True) for value, token in sorted(
            whole.items(), key=lambda kv: (-len(kv[0]), kv[0]))]
        self._needles += [(_fold(p) if lowercase else p, NAME_TOKEN, lowercase)
                          for p in sorted(parts, key=lambda p: (-len(p), p))]

    @classmethod
    def off(cls) -> "Masker":
        return cls(enabled=False)

    def __call__(self, text: Optional[str]) -> str:
        if text is None:
            return ""
        text = printable(text)
        if not self.enabled:
            return text
        if self._needles:
            text = self._mask_known(text)
        text = _mask_emails(text)
        text = PHONE_RE.sub(_phone, text)
        return self._intro.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + NAME_TOKEN, text)

    def _mask_known(self, text: str) -> str:
        squeezed, offsets = _squeeze(text)
        spans = _known_spans(squeezed, _fold(squeezed), self._needles)
        if not spans:
            return text
        out: List[str] = []
        last = 0
        for start, end, token in spans:
            if offsets is not None:
                start, end = offsets[start], offsets[end - 1] + 1
            out += [text[last:start], token]
            last = end
        out.append(text[last:])
        return "".join(out)

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


def _clean_value(value) -> str:
    return " ".join(printable(value).split()) if isinstance(value, str) else ""


def _plain(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def masker_for(slot_values: Dict[str, Iterable[str]], requests: Iterable, enabled: bool = True,
               lowercase: bool = False) -> Masker:
    """A masker for one conversation: the values of its personal slots and of its
    requests' personal fields, each hidden as its declared kind."""
    found: Dict[str, List[str]] = {kind: [] for kind in TOKENS}
    for slot, values in slot_values.items():
        kind = PERSONAL_SLOTS.get(slot)
        if kind in found:
            found[kind] += [v for v in values if isinstance(v, str)]
    for req in requests:
        for field, kind in PERSONAL_REQUEST_FIELDS.items():
            value = getattr(req, field, None)
            if isinstance(value, str) and kind in found:
                found[kind].append(value)
    return Masker(found[NAME], found[EMAIL], found[PHONE], enabled=enabled, lowercase=lowercase,
                  hidden=found[CONTACT] + found[FREE_TEXT])
