"""Typo-tolerant phrase matching over spaCy lemmas, shared by the entity layer and
the red-flag matcher.

A message is lower-cased, tokenised and lemmatised by the project's spaCy pipeline;
tokens that are not English words but are one or two letters away from a word of a
known phrase ("kindey", "artherosclerosis") are corrected; then spaCy's
``PhraseMatcher`` looks for every phrase by lemma and by exact lower-case form.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

# A word this similar (difflib ratio) to a phrase word counts as a typo of it.
_TYPO_RATIO = 0.75  # a first cut; edit_distance() decides
_MIN_TYPO_LEN = 5
# How many of the most similar phrase words are weighed (difflib ranks ties arbitrarily:
# with three, "pian" saw "plan", "pins" and "pink" but not "pain").
_TYPO_CANDIDATES = 10
# Looked-up words remembered. Every unknown word is looked up, however many: a bound of 40
# per message let "chest pian now" after 1,900 characters of another language go unread.
_TYPO_CACHE = 4096


@dataclass(frozen=True)
class PhraseMatch:
    start: int  # character offsets in the original text
    end: int
    label: str
    value: str
    text: str
    corrected: bool


GAP = "..."  # in a phrase: up to four words of any kind ("chest ... pain")
_GAP_OP = {"OP": "{,4}"}


class PhraseIndex:
    """Finds labelled phrases in text. ``phrases`` are (label, value, phrase) triples.

    A phrase is matched by exact lower-case form, and a phrase of several words also
    by lemma ("calcium in my kidneys" = "calcium in my kidney"); a phrase containing
    ``...`` becomes a spaCy ``Matcher`` pattern with a short gap of any words there.
    ``by_lemma=False`` matches exact forms only (red flags: "fainted" must not match
    the adjective in "faint spots on my X-ray").
    """

    def __init__(
        self,
        nlp,
        phrases: Iterable[Sequence[str]],
        by_lemma: bool = True,
        nested_labels: Iterable[str] = (),
        containers: Iterable[str] = (),
        min_typo_length: int = _MIN_TYPO_LEN,
    ) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = nlp
        self._keys: List[Tuple[str, str]] = []
        # Labels kept even inside a longer match of a container label: "calcium in
        # my kidney" names a type, and "kidney" in it still names the place.
        self._nested = frozenset(nested_labels)
        self._containers = frozenset(containers)
        self._min_typo = min_typo_length
        self._by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._by_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        # Patterns are built here, from checked phrases: spaCy's schema check of each one
        # took a second on the red flags' thousands.
        self._with_gaps = Matcher(nlp.vocab, validate=False)
        vocab: Set[str] = set()
        grouped: dict = {}
        for label, value, phrase in phrases:
            forms = grouped.setdefault((label, value), {})
            forms.update(dict.fromkeys(_number_variants(phrase.lower())))
        # Exact forms need only the tokenizer: ten times faster on the red flags' thousands.
        tokenize = nlp.pipe if by_lemma else nlp.tokenizer.pipe
        for key, texts in grouped.items():
            match_id = f"{len(self._keys)}"
            self._keys.append(key)
            plain = [t for t in texts if GAP not in t]
            docs = list(tokenize(plain))
            if docs:
                self._by_lower.add(match_id, docs)
                # Lemmas only for phrases of several words: a lone word's lemma is too
                # loose ("fasting" -> "fast" would match "how fast will I recover").
                several = [d for d in docs if len(d) > 1]
                if by_lemma and several:
                    self._by_lemma.add(match_id, several)
            gapped = _merged([self._gap_pattern(text, by_lemma) for text in texts if GAP in text])
            if gapped:
                self._with_gaps.add(match_id, gapped)
            for doc in docs:
                vocab.update(t.lower_ for t in doc if t.is_alpha and len(t) >= min_typo_length)
            for doc in tokenize(t.replace(GAP, " ") for t in texts if GAP in t):
                vocab.update(t.lower_ for t in doc if t.is_alpha and len(t) >= min_typo_length)
        # Phrase words by length: a word two edits away is at most two letters longer or shorter.
        self._by_length: Dict[int, List[str]] = {}
        for word in sorted(vocab):
            self._by_length.setdefault(len(word), []).append(word)
        self._typo_of = lru_cache(maxsize=_TYPO_CACHE)(self._closest_phrase_word)
        self._phrase_word_set = vocab
        self._english = _english_words(nlp)

    def _gap_pattern(self, text: str, by_lemma: bool) -> List[dict]:
        pattern: List[dict] = []
        for i, part in enumerate(text.split(GAP)):
            if i:
                pattern.append(dict(_GAP_OP))
            for token in (self.nlp if by_lemma else self.nlp.tokenizer)(part.strip()):
                if by_lemma:
                    forms = sorted({token.lower_, token.lemma_.lower()})
                    pattern.append({"LEMMA": {"IN": forms}})
                else:
                    pattern.append({"LOWER": token.lower_})
        return pattern

    def _correct(self, doc) -> Tuple[Optional[object], bool]:
        """A copy of ``doc`` with typos of phrase words fixed, or (None, False)."""
        from spacy.tokens import Doc

        words, changed = [], False
        for token in doc:
            word = token.lower_
            if (
                token.is_alpha
                and len(word) >= self._min_typo
                and word not in self._english
                and word not in self._phrase_word_set
            ):
                fixed_word = self._typo_of(word)
                if fixed_word:
                    word, changed = fixed_word, True
            words.append(word)
        if not changed:
            return None, False
        fixed = Doc(self.nlp.vocab, words=words, spaces=[bool(t.whitespace_) for t in doc])
        for _, component in self.nlp.pipeline:
            fixed = component(fixed)
        return fixed, True

    def _closest_phrase_word(self, word: str) -> Optional[str]:
        """The phrase word ``word`` is a typo of, if any."""
        most = max_typos(word)
        pool = [c for n in range(len(word) - most, len(word) + most + 1) for c in self._by_length.get(n, ())]
        close = [c for c in difflib.get_close_matches(word, pool, _TYPO_CANDIDATES, _TYPO_RATIO)
                 if edit_distance(word, c) <= most]
        # The fewest edits first, then the same letters swapped ("pian" is "pain", not
        # "plan", though both are one edit away and equally similar).
        return min(close, key=lambda c: (edit_distance(word, c), sorted(c) != sorted(word))) if close else None

    def find(self, text: str) -> List[PhraseMatch]:
        """Non-overlapping matches, longest first; one span may carry several labels."""
        if not text or not text.strip():
            return []
        lowered = text.lower()
        if len(lowered) != len(text):  # a few scripts change length when lower-cased
            lowered = text
        doc = self.nlp(lowered)
        fixed, corrected = self._correct(doc)
        target = fixed if corrected else doc
        found = {}
        for matcher in (self._by_lemma, self._by_lower, self._with_gaps):
            for match_id, start, end in matcher(target):
                key = self._keys[int(self.nlp.vocab.strings[match_id])]
                found[(start, end, key)] = True
        accepted: List[Tuple[int, int, Tuple[str, str]]] = []
        for start, end, key in sorted(found, key=lambda m: (m[0] - m[1], m[0])):
            clash = any(
                start < a_end and a_start < end and (a_start, a_end) != (start, end)
                and not (key[0] in self._nested and a_key[0] in self._containers
                         and a_start <= start and end <= a_end)
                for a_start, a_end, a_key in accepted
            )
            same_label = any(
                (a_start, a_end) == (start, end) and a_key[0] == key[0]
                for a_start, a_end, a_key in accepted
            )
            if not clash and not same_label:
                accepted.append((start, end, key))
        matches = []
        for start, end, (label, value) in sorted(accepted):
            span = doc[start:end]
            was_fixed = corrected and any(
                doc[i].lower_ != target[i].lower_ for i in range(start, end)
            )
            matches.append(
                PhraseMatch(
                    start=span.start_char,
                    end=span.end_char,
                    label=label,
                    value=value,
                    text=text[span.start_char : span.end_char],
                    corrected=was_fixed,
                )
            )
        return matches


def _merged(patterns: List[List[dict]]) -> List[List[dict]]:
    """The same matches with fewer patterns: patterns equal but at one position become one
    whose token there may be any of theirs. The red flags' word classes make thousands of
    patterns that differ in one word, and spaCy's ``Matcher`` time grows with their number
    (3.8 ms a message for 5,117 patterns, measured). Merging only at one position at a time
    never matches more than the patterns did."""
    def element(token: dict):
        if "OP" in token:
            return ("OP", token["OP"])
        (attr, value), = token.items()
        return (attr, frozenset(value["IN"]) if isinstance(value, dict) else frozenset([value]))

    current = {tuple(element(t) for t in p) for p in patterns}
    for position in range(max((len(p) for p in current), default=0)):
        groups: dict = {}
        for p in current:
            if position < len(p) and p[position][0] != "OP":
                key = (len(p), p[:position], p[position + 1:], p[position][0])
                groups.setdefault(key, set()).update(p[position][1])
            else:
                groups[(len(p), p, None, None)] = None
        current = {key[1] if words is None else key[1] + ((key[3], frozenset(words)),) + key[2]
                   for key, words in groups.items()}
    return [[{"OP": value} if attr == "OP" else {attr: {"IN": sorted(value)}} for attr, value in p]
            for p in sorted(current, key=repr)]


def _number_variants(phrase: str) -> List[str]:
    """A one-word phrase in singular and plural ("tablet", "tablets"): lemmas are not
    used for single words (see above), so number is added here instead."""
    if " " in phrase or GAP in phrase or not phrase.isalpha():
        return [phrase]
    if phrase.endswith("s") and len(phrase) > 4:
        return [phrase, phrase[:-1]]
    return [phrase, phrase + "s"]


def _english_words(nlp) -> Set[str]:
    """Real English words (never treated as typos): spaCy's stop words and the word
    forms of the English lemma tables shipped in ``spacy-lookups-data``."""
    import srsly
    import spacy_lookups_data

    words: Set[str] = set(nlp.Defaults.stop_words)
    lookup = srsly.read_gzip_json(spacy_lookups_data.get_file("en_lemma_lookup.json.gz"))
    words.update(lookup)
    words.update(lookup.values())
    index = srsly.read_gzip_json(spacy_lookups_data.get_file("en_lemma_index.json.gz"))
    for forms in index.values():
        words.update(forms)
    return {w.lower() for w in words}


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and
    swaps of neighbouring letters ("kindey" -> "kidney" is one edit)."""
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def max_typos(word: str) -> int:
    return 1 if len(word) <= 7 else 2
