"""Is a symptom mentioned in a message a present one? Negated, past and reassured mentions.

The red-flag matcher (``nlu_components/red_flags.py``) finds symptom phrases; this module
says, for one found phrase, when it is *not* a symptom the writer has now, so that it
raises no alarm. Plain word rules, no parser, and in doubt the mention is kept:

- **negated**: a negation cue stands before the phrase, with only light words between
  ("no chest pain", "I'm not short of breath", "don't have any trouble breathing",
  "no sign of", "free of", "denies"), or before a list ending in "or" the phrase is in
  ("no fever, cough or chest pain"). The cue must precede the phrase: a phrase whose own
  words negate ("can't breathe", "isn't breathing", "won't wake up") is the symptom.
  Not negated: a cue after "hope", "not sure", "if", "think"... ("I hope he's not having
  a stroke"), "can't ... without chest pain", "never had chest pain like this / before".
- **past**: its clause (cut at punctuation and at "and", "but", "so"...) dates it
  ("years ago", "last year", "as a kid", "a while back", "in the past", "used to"), or,
  the clause being in the past tense, the person is well again later in the sentence
  ("... but I'm fine now", "and is stable now").
- **reassured**: the same part of the sentence (up to "but", "however"...) says it is
  no emergency ("not an emergency", "just curious", "all good") and the clause names
  nobody ("what does chest pain feel like"): a question, not a report.
- **hypothetical**: earlier in the phrase's own clause, a condition ("if I ever get",
  "in case", "what if", "what happens if", "if he starts") or, with nobody named between
  it and the phrase, a question about the illness ("what would ... feel like", "is it
  possible to", "can calcification cause"). A doubt about a present symptom ("not sure if
  this is chest pain") is no condition, and "what would you do, my dad collapsed" puts the
  question in another clause.

A sign of the present in the phrase's clause ("now", "today", "still", "suddenly",
"since"...), a recurrence later in the sentence ("again", "it came back"), and for past
mentions a present tense in the phrase or just before it ("who had a stroke years ago
can't speak", "... is slurring") keep the mention.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Optional, Sequence, Tuple

from guide.symptom_cues import (  # the cue tables
    STRONG, WEAK, CONTRAST, JOINS, NEGATION, _NEGATIVE, _CUE_WITH_NEXT, FILLER, HEDGES, _COMPARED,
    _COMPARED_PAIRS, _ABSENT, PERSONS, _LIST_ENDS, PRESENT, PRESENT_TENSE, RECURRENCE, _BACK_AFTER,
    _SUBJECTS, _DOES, _PRESENT_AFTER_THIS, _HAVING, _NOT_PAST_ED, _PAST, Pattern, HISTORY, _BREAKS,
    _TIME_FILLER, _ACCUSTOMED, _RECENT_UNITS, RECOVERY, REASSURANCE, CONDITIONS, ASKING, _DOUBT,
)

NEGATED, PAST, REASSURED, HYPOTHETICAL = "negated", "past", "reassured", "hypothetical"

_TOKEN = re.compile(r"\n|\w+(?:['’]\w+)*|[^\s\w]")


class SymptomContext:
    """One message, tokenised once; ``why_not_present`` judges each phrase found in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        found = [(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.words = [w for w, _, _ in found]
        self.spans = [(s, e) for _, s, e in found]
        # Per token, the id of its sentence, part (cut at contrast words too), clause (at
        # commas too) and short clause (at "and", "so"... too).
        self.sentence: List[int] = []
        self.part, self.clause, self.short = [], [], []
        ids = [0, 0, 0, 0]
        for i, word in enumerate(self.words):
            now_follows = word in ("and", "but") and self.words[i + 1:i + 2] == ["now"]
            level = (0 if word in STRONG else 1 if word in CONTRAST or now_follows else
                     2 if word in WEAK else 3 if word in JOINS else 4)
            for k in range(level, 4):
                ids[k] += 1
            for ids_list, value in zip((self.sentence, self.part, self.clause, self.short), ids):
                ids_list.append(value)
        self._cues = {
            name: self._find(patterns)
            for name, patterns in (("history", HISTORY), ("recovery", RECOVERY), ("reassurance", REASSURANCE),
                                   ("condition", CONDITIONS), ("asking", ASKING))
        }
        self._in_cue = {i for name, spans in self._cues.items() if name in ("history", "recovery", "reassurance")
                        for a, b in spans for i in range(a, b)}

    def clause_spans(self) -> List[Tuple[int, int]]:
        """Character spans of the clauses (cut at punctuation and contrast words)."""
        spans: List[Tuple[int, int]] = []
        current = None
        for i, word in enumerate(self.words):
            if word in STRONG or word in WEAK or word in CONTRAST:
                continue
            if spans and self.clause[i] == current:
                spans[-1] = (spans[-1][0], self.spans[i][1])
            else:
                spans.append(self.spans[i])
                current = self.clause[i]
        return spans

    def why_not_present(self, start: int, end: int, gapped: Sequence[str] = ()) -> Optional[str]:
        """NEGATED, PAST or REASSURED when the phrase at text[start:end] is not a present
        symptom, else None. ``gapped``: the phrases with a "..." gap it may come from
        ("speech ... slurred"), so that a negation in the gap counts ("speech isn't slurred")."""
        inside = [i for i, (s, e) in enumerate(self.spans) if s < end and e > start]
        if not inside:
            return None
        first, last = inside[0], inside[-1]
        if any(self._negated_in_gap(first, last, phrase) for phrase in gapped):
            return NEGATED
        reason = self._judge(first, last)
        if reason and self.clause[first] != self.clause[last]:
            # A phrase with a gap reaching over a clause break ("no wound pain, it's red and
            # hot"): dropped only when its last clause is negated too.
            tail = [i for i in inside if self.clause[i] == self.clause[last]
                    and self.words[i] not in _BREAKS and self.words[i] not in FILLER]
            if not (tail and self._cue_at(tail[0])):
                return None
        return reason

    def _judge(self, first: int, last: int) -> Optional[str]:
        if self._negated(first, last):
            return NEGATED
        if self._present(first, last) or self._recurs(first, last):
            return None
        if (self._dated(first, last) or self._recovered(first, last)) and not self._present_tense(first, last):
            return PAST
        if self._reassured(first, last):
            return REASSURED
        if self._hypothetical(first, last):
            return HYPOTHETICAL
        return None

    def _hypothetical(self, first: int, last: int) -> bool:
        clause = self.clause[first]
        for a, b in self._cues["condition"]:
            if self.clause[a] == clause and a < first and b <= first + 1 and not any(
                    self.words[i] in _DOUBT for i in range(a) if self.clause[i] == clause):
                return True
        return any(self.clause[a] == clause and b <= first
                   and not any(self.words[i] in PERSONS for i in range(b, first))
                   for a, b in self._cues["asking"])

    def _negated(self, first: int, last: int) -> bool:
        words = self.words
        j = first - 1
        while j >= 0 and words[j] in FILLER:
            j -= 1
        if j < 0:
            return self._absent_after(last)
        if self._cue_at(j):
            cue = j
        elif words[j] in ("or", "nor", ","):
            # "no fever or chest pain", "no fever, chest pain or cough"; a phrase that is
            # itself negative ("no pulse or not breathing") is kept.
            if any(w in _NEGATIVE for w in words[first:last + 1]):
                return False
            cue = self._list_cue(j)
            if cue is None or (words[j] == "," and not self._list_goes_on(last)):
                return self._absent_after(last)
        else:
            return self._absent_after(last)
        return not (self._hedged(cue) or self._double_negative(cue) or self._compared(last)
                    or self._affirmed_later(last))

    def _dated(self, first: int, last: int) -> bool:
        if any(self.short[first] <= self.short[a] <= self.short[last] for a, _ in self._cues["history"]):
            return True
        # "Years ago, I fainted": a clause just before that only dates.
        before = [i for i in range(len(self.words)) if self.clause[i] == self.clause[first] - 1
                  and self.part[i] == self.part[first]]
        dates = [(a, b) for a, b in self._cues["history"] if before and before[0] <= a <= before[-1]]
        rest = [self.words[i] for i in before if self.words[i] not in _BREAKS
                and not any(a <= i < b for a, b in dates)]
        return bool(dates) and all(w in _TIME_FILLER for w in rest)

    def _recovered(self, first: int, last: int) -> bool:
        later = [a for a, _ in self._cues["recovery"] if a > last and self.sentence[a] == self.sentence[first]]
        if not later:
            return False
        clause = [i for i in range(len(self.words)) if self.short[first] <= self.short[i] <= self.short[last]]
        return any(self.words[i] in _PAST or (self.words[i].endswith("ed") and len(self.words[i]) > 4
                                              and self.words[i] not in _NOT_PAST_ED) for i in clause)

    def _reassured(self, first: int, last: int) -> bool:
        if not any(self.part[a] == self.part[first] for a, _ in self._cues["reassurance"]):
            return False
        return not any(self.words[i] in PERSONS or self.words[i] in _HAVING
                       for i in self._own_clause(first, last))

    def _negated_in_gap(self, first: int, last: int, phrase: str) -> bool:
        parts = [[m.group().lower().replace("’", "'") for m in _TOKEN.finditer(part)]
                 for part in (phrase.split("...")[0], phrase.split("...")[-1])]
        head, tail = parts
        words = self.words[first:last + 1]
        if len(words) <= len(head) + len(tail) or words[:len(head)] != head or words[-len(tail):] != tail:
            return False
        gap = range(first + len(head), last + 1 - len(tail))
        return any(self._cue_at(i) and all(self.words[k] in FILLER for k in range(i + 1, gap[-1] + 1))
                   and not self._hedged(i) for i in gap)

    def _recurs(self, first: int, last: int) -> bool:
        """"... years ago, and again today": later in the sentence it is back."""
        words = self.words
        return any((words[i] in RECURRENCE or (words[i] == "back" and words[i - 1] in _BACK_AFTER))
                   and i not in self._in_cue
                   for i in range(last + 1, len(words)) if self.sentence[i] == self.sentence[first])

    def _affirmed_later(self, last: int) -> bool:
        """"I didn't have chest pain yesterday but today I do": a short "I do" later on."""
        words, n = self.words, len(self.words)
        return any(
            words[i] in _SUBJECTS and words[i + 1] in _DOES and self.part[i] != self.part[last]
            and (i + 2 == n or words[i + 2] in _BREAKS or words[i + 2] in PRESENT or words[i + 2] == "too")
            for i in range(last + 1, n - 1) if self.sentence[i] == self.sentence[last])

    def _cue_at(self, i: int) -> bool:
        word = self.words[i]
        if word in NEGATION:
            return True
        following = self.words[i + 1] if i + 1 < len(self.words) else ""
        return following in _CUE_WITH_NEXT.get(word, ())

    def _list_cue(self, j: int) -> Optional[int]:
        for k in range(j - 1, max(j - 13, -1), -1):
            if self._cue_at(k):
                # "No, chest pain or pressure": an answer, not a list's negation.
                return None if self.words[k + 1] == "," else k
            if self.words[k] in _LIST_ENDS:
                return None
        return None

    def _list_goes_on(self, last: int) -> bool:
        for word in self.words[last + 1:last + 13]:
            if word in ("or", "nor"):
                return True
            if word in _LIST_ENDS:
                return False
        return False

    def _hedged(self, cue: int) -> bool:
        return any(self.words[i] in HEDGES for i in range(cue - 1, -1, -1)
                   if self.clause[i] == self.clause[cue])

    def _double_negative(self, cue: int) -> bool:
        return self.words[cue] == "without" and any(
            self.words[i] in _NEGATIVE for i in range(cue) if self.clause[i] == self.clause[cue])

    def _compared(self, last: int) -> bool:
        after = [self.words[i] for i in range(last + 1, len(self.words)) if self.clause[i] == self.clause[last]]
        return any(w in _COMPARED for w in after) or any(p in _COMPARED_PAIRS for p in zip(after, after[1:]))

    def _absent_after(self, last: int) -> bool:
        k, n = last + 1, len(self.words)
        while k < n and self.words[k] in (":", "-", "–", "=", "is"):
            k += 1
        return k < n and self.words[k] in _ABSENT and (
            k + 1 == n or self.clause[k + 1] != self.clause[k] or self.words[k + 1] in STRONG)

    def _own_clause(self, first: int, last: int) -> Iterable[int]:
        """Tokens of the phrase's short clause, outside the phrase and outside any cue."""
        return [i for i in range(len(self.words)) if self.short[first] <= self.short[i] <= self.short[last]
                and not first <= i <= last and i not in self._in_cue]

    def _present_tense(self, first: int, last: int) -> bool:
        """"my husband who had a stroke years ago can't speak", "... is slurring": the phrase
        or the word before it (not a question's first word) is in the present tense."""
        before = [first - 1] if first > 1 and self.sentence[first - 2] == self.sentence[first] else []
        return any(self.words[i] in PRESENT_TENSE for i in [*before, *range(first, last + 1)])

    def _present(self, first: int, last: int) -> bool:
        own = list(self._own_clause(first, last))
        words = self.words
        return any(words[i] in PRESENT for i in own) or any(
            words[i] == "this" and i + 1 < len(words) and words[i + 1] in _PRESENT_AFTER_THIS for i in own)

    def _find(self, patterns: Sequence[Pattern]) -> List[Tuple[int, int]]:
        found = []
        words = self.words
        for pattern in patterns:
            for i in range(len(words) - len(pattern) + 1):
                if all(e(words[i + k]) if callable(e) else words[i + k] in e for k, e in enumerate(pattern)):
                    end = i + len(pattern)
                    if pattern[-1] == {"past"} and end < len(words) and (
                            words[end] in _RECENT_UNITS or words[end].isdigit()):
                        continue  # "in the past hour"
                    if pattern[0] == {"used"} and i > 0 and words[i - 1] in _ACCUSTOMED:
                        continue  # "I'm not used to chest pain like this"
                    found.append((i, end))
        return found


def why_not_present(text: str, start: int, end: int) -> Optional[str]:
    """NEGATED, PAST or REASSURED when the symptom phrase at text[start:end] is not a
    present one, else None (see the module's docstring)."""
    return SymptomContext(text).why_not_present(start, end)
