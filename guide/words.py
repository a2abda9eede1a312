"""Word-level helpers shared by the guide's parser and its look-ups."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import List

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"[a-z]+")
_SUFFIXES = ("ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "al")
# Words that carry no topic: English function words plus the guide's own subject.
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our out over
    own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself get got need want know tell please
    thing things kind one ones lot much really something anything someone people person
    calcified calcification calcifications lesion lesions calcium deposit deposits
    guide clinic doctor doctors like just ever even still also okay yes hello thanks
    thank way say said let
    wat wot wats whats abt pls plz thx hw""".split()
)


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def sentences(text: str) -> List[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def stems(text: str) -> List[str]:
    """Crude stems of the content words of a text ("medications" -> "medic")."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 3:
            continue
        for _ in range(2):  # "surgically" -> "surgical" -> "surgic" = "surgical"
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                    word = word[: -len(suffix)]
                    break
        out.append(word)
    return out


def mentions(text: str, term: str) -> bool:
    """Whole-word, case-insensitive match that also accepts a plural or -al/-ic ending."""
    stem = re.escape(term.lower().replace("_", " ").rstrip("s"))
    return re.search(rf"\b{stem}(s|es)?\b", text.lower()) is not None


# Words of a question about a whole section ("what kinds are there?", "how do I get
# ready?", "what happens after the procedure?"): a message with nothing but these
# (and _STOP words) asks for the section, however close in meaning one item is.
_SECTION_WORDS_TEXT = """type types kind kinds sort sorts variety varieties category categories different exist
    list options option treatment treatments treat treated treating specialist specialists
    deal dealing prepare preparing preparation ready steps step recovery recover recovering
    afterwards procedure usually happen happens available many look looks expect come comes
    next point points general overall typical typically main usual manage managed
    management handle handles care cares go goes form forms appointment appointments
    visit visits consultation before beforehand tips tip advice done see seeing week weeks
    month months tomorrow soon upcoming options available possible usually exactly else prep
    involve involves involved like process entail entails better need needs normally
    calcification calcifications calcified lesion lesions calcium deposit deposits"""
_SECTION_WORDS = frozenset(stems(_SECTION_WORDS_TEXT))
_SECTION_WORDS_RAW = frozenset(w for w in _SECTION_WORDS_TEXT.split() if len(w) >= 5)
_SENTENCES = re.compile(r"[^.!?]+[.!?]*")


@lru_cache(maxsize=256)  # asked several times per question about the same text
def asks_for_whole_section(text: str) -> bool:
    """True when every content word of ``text`` is a word of section questions, or, after
    a story ("We have an appointment next week. How can we get ready?"), of its last
    sentence, when that is a question."""
    if all(_is_section_word(word) for word in stems(text)):
        return True
    parts = [p.strip() for p in _SENTENCES.findall(text) if p.strip()]
    if len(parts) < 2 or not parts[-1].endswith("?"):
        return False
    last = stems(parts[-1])
    return bool(last) and all(_is_section_word(word) for word in last)


def _is_section_word(stem: str) -> bool:
    """A word of section questions, or one typed a letter short or wrong ("treatmnt")."""
    if stem in _SECTION_WORDS:
        return True
    return len(stem) >= 6 and any(_one_edit(stem, word) for word in _SECTION_WORDS_RAW
                                  if abs(len(word) - len(stem)) <= 1)


def _one_edit(a: str, b: str) -> bool:
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


# An elliptical follow-up ("and if they have to take it out?", "what about the lungs?",
# "and the pills I take?", "can tendons get it too?", "tendons?"): the question before,
# asked again about something else. Starts with a joining word and no question of its
# own, ends in "too" / "as well", or is a bare phrase of a few words.
_JOINING = re.compile(
    r"^\s*(?:(?:and|&|n|also|plus|or|but|so)\b[\s,]*)?"
    r"(?:(?:what|wat|how)\s+(?:about|abt|if)\b|if\b|for\b|with\b|in\b)?", re.I)
_OWN_QUESTION = frozenset(
    """what wat how who why when where which whom whose should shud can could do does did
    will would is are was were shall may might""".split())
_CONTRACTION = re.compile(r"'(?:d|s|ll|re|ve)$")
_ALSO_END = re.compile(r"\b(?:too|as well|also|either)\W*$", re.I)


def continues_previous(text: str) -> bool:
    """True when ``text`` is an elliptical follow-up of the question before it."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    if not words or len(words) > 25:
        return False
    if _ALSO_END.search(text):
        return True
    lead = _JOINING.match(text)
    rest = re.findall(r"[a-z0-9']+", text[lead.end():].lower()) if lead else words
    if lead and lead.group(0).strip():  # "and who'd operate?" asks its own question
        return bool(rest) and _CONTRACTION.sub("", rest[0]) not in _OWN_QUESTION
    # a bare phrase: "tendons?", "the lungs?", "past surgeries?"
    return len(words) <= 3 and words[0] not in _OWN_QUESTION and text.strip().endswith("?")


# A place in a list the assistant has just shown ("the second one", "number 3").
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7,
    "eighth": 8, "8th": 8, "ninth": 9, "9th": 9, "last": -1,
}
_POSITION = re.compile(
    r"\b(?:" + "|".join(ORDINALS) + r")\s+(?:one|ones|point|option|item|type|kind|step|doctor|specialist)\b"
    r"|\bnumber\s+\d\b|\bno\.\s*\d\b"  # "number 3", "no. 3" (not "no 3D scan", "no 2 alike")
    # a bare place: "5th", "the third?", "and the last"
    r"|^\W*(?:(?:and|ok|okay|so)\W+)?(?:the\s+)?(?:" + "|".join(ORDINALS) + r")\W*$",
    re.I)


def names_position(text: str) -> bool:
    """"the first one, what does it do?": the message points at a place in the list shown."""
    return bool(_POSITION.search(text))
