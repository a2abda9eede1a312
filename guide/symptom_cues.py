"""The words and word patterns ``guide.negation`` judges a symptom mention by: negation
cues, fillers, hedges, signs of the present, dates, recovery, reassurance, conditions and
questions about the illness. Kept apart from the rules that use them, so that either can
be read on its own (the rules: ``guide/negation.py``)."""

from __future__ import annotations

import re
from typing import Callable, Sequence, Set, Tuple, Union


def _words(text: str) -> Set[str]:
    return set(text.split())


# Sentence ends, clause breaks, and words that turn to another statement.
STRONG = _words(". ! ? ; : … \n")
WEAK = _words(", - – — ( ) /")
CONTRAST = _words("but however though although yet whereas except")
# Also end a short clause (the scope of "years ago" and of signs of the present).
JOINS = _words("and so then because cause cos since")

NEGATION = _words(
    """no not never without zero none nor neither denies denied deny denying
    don't dont doesn't doesnt didn't didnt isn't isnt aren't arent wasn't wasnt weren't
    werent haven't havent hasn't hasnt hadn't hadnt ain't aint won't wont wouldn't wouldnt"""
)
CANNOT = _words("can't cant cannot couldn't couldnt unable hardly barely")
_NEGATIVE = NEGATION | CANNOT
# Cues of two words: "free of", "absence of", "lack of", "negative for".
_CUE_WITH_NEXT = {"free": {"of", "from"}, "absence": {"of"}, "lack": {"of"}, "negative": {"for"}}
# Light words allowed between a negation cue and the phrase ("not having any ...").
FILLER = _words(
    """have has had having get gets getting got gotten feel feels feeling felt experience
    experiences experiencing experienced suffer suffers suffering suffered notice noticed
    noticing see seen seeing show shows showing showed develop developed developing be
    been being is am are was were seem seems seemed appear appears appeared to from of
    for a an the any my his her their your our such much more longer real really actually
    currently even ever at all obvious significant serious major big noticeable further
    other new sign signs symptom symptoms evidence history kind sort type
    cough coughed coughing vomit vomited vomiting"""
)
# Before the negation cue in its clause, these make it a worry or a doubt, not a denial.
HEDGES = _words(
    """hope hoping hopefully pray praying scared afraid fear feared terrified worried
    unsure sure if whether check checking know tell think wonder wondering confirm ensure"""
)
# After the phrase: "never had chest pain like this", "... before", "until today".
_COMPARED = _words("before until till til")
_COMPARED_PAIRS = {("like", "this"), ("this", "bad"), ("so", "bad"), ("this", "severe"),
                   ("this", "strong"), ("this", "intense"), ("this", "painful")}
# Straight after the phrase, as in a form: "chest pain: none".
_ABSENT = _words("none nil absent negative")
PERSONS = _words("i i'm im i've ive me my he he's hes him his she she's shes her they they're them their we we're us our")
# Items of a negated list are nouns and adjectives: these end the list.
_LIST_ENDS = (PERSONS | HEDGES | STRONG | CONTRAST | WEAK - {","}
              | _words("it it's now and then suddenly because since so when which who that this today still again"))

PRESENT = _words(
    """now currently today tonight since still again suddenly keep keeps keeping
    ambulance help 911 999 112 atm moment minutes minute hour hours"""
)
PRESENT_TENSE = _words("""is are am i'm im he's hes she's shes it's they're we're can't cant cannot
    won't wont isn't isnt aren't doesn't doesnt don't dont keep keeps""")
RECURRENCE = _words("again returned returning recurred recurring worse")
_BACK_AFTER = _words("came come comes coming is it's its was are they're")  # "it came back"
# "... but now I do": the negated symptom is there after all.
_SUBJECTS = _words("i he she it they we")
_DOES = _words("am is are do does did have has")
_PRESENT_AFTER_THIS = _words("morning afternoon evening night week")
_HAVING = _words("have has having got")
_NOT_PAST_ED = _words("need feed bleed speed indeed breed seed weed shred tired worried scared concerned confused")
_PAST = _words("had was were did got went fell felt came became")

Element = Union[Set[str], Callable[[str], bool]]
Pattern = Tuple[Element, ...]

_NUMBER_WORDS = _words("a one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty few couple several many some")


def _number(word: str) -> bool:
    return word.isdigit() or word in _NUMBER_WORDS


def _year(word: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", word))


_LONG_UNITS = _words("year years yr yrs month months decade decades")
HISTORY: Sequence[Pattern] = (
    (_number, _LONG_UNITS, {"ago", "back"}),
    ({"years", "yrs", "months", "decades", "ages"}, {"ago", "back"}),
    ({"long"}, {"ago"}),
    ({"long"}, {"time"}, {"ago"}),
    ({"while"}, {"back", "ago"}),
    ({"last"}, {"year", "month", "week", "summer", "winter", "spring", "autumn"}),
    ({"the"}, {"other"}, {"year"}),
    ({"as"}, {"a", "an"}, _words("kid child teen teenager baby boy girl student youngster toddler")),
    ({"as"}, {"kids", "children", "teens", "teenagers"}),
    ({"when"}, _words("i he she we they"), {"was", "were"}, _words("a young little younger small kids kid child baby teen teenager")),
    ({"in"}, {"the"}, {"past"}),
    ({"used"}, {"to"}),
    ({"history"}, {"of"}),
    ({"previously"},),
    ({"childhood"},),
    ({"in", "back"}, _year),
    ({"back"}, {"in"}, _year),
)
_BREAKS = STRONG | WEAK | CONTRAST | JOINS
# "Years ago, I fainted": what a clause that only dates may hold besides the date.
_TIME_FILLER = _words("a about around some like so well um oh ok okay way back even also once quite long")
# "I'm not used to chest pain like this" is no history.
_ACCUSTOMED = _words("i'm im am is are was were be been being get got getting not he's hes she's shes")
# "in the past" dates a mention, "in the past hour" does not.
_RECENT_UNITS = _words("few couple several hour hours day days week weeks month months year years minute minutes night nights 24 48")

_IS = _words("i'm im he's hes she's shes they're theyre we're it's its is am are feel feeling feels seems seem looks look doing")
_ADVERBS = _words("totally completely perfectly absolutely all much fully quite really")
_WELL = _words("fine ok okay better stable good well alright normal recovered healed resolved")
RECOVERY: Sequence[Pattern] = (
    (_IS, _WELL, {"now"}),
    (_IS, _ADVERBS, _WELL, {"now"}),
    ({"now"}, _IS, _WELL),
    ({"now"}, _IS, _ADVERBS, _WELL),
    ({"all"}, _WELL, {"now"}),
    ({"fully", "completely"}, {"recovered"}),
    ({"recovered"}, {"fully", "completely", "well"}),
    ({"full"}, {"recovery"}),
    ({"has", "have", "had"}, {"recovered"}),
    ({"been"}, _WELL, {"since", "ever"}),
    # "... and he's completely fine": no "now" needed after such an adverb.
    (_IS, _words("completely totally perfectly absolutely fully"), _WELL),
    (_IS, _WELL, {"today", "again"}),
    # "... it passed and I'm fine", "the headache is gone now".
    ({"it", "it's", "its"}, {"passed", "settled", "cleared"}),
    ({"is", "it's", "its", "has"}, {"gone"}, {"now", "away"}),
    ({"went", "gone"}, {"away"}),
)
REASSURANCE: Sequence[Pattern] = (
    ({"not", "no"}, {"an", "a"}, {"emergency"}),
    ({"not", "no"}, {"emergency", "urgent"}),
    ({"nothing"}, {"urgent", "serious"}),
    ({"just"}, {"curious", "wondering", "asking", "checking"}),
    ({"out"}, {"of"}, {"curiosity"}),
    ({"all"}, {"good", "fine", "ok", "okay", "well"}),
    ({"no"}, {"worries"}),
    ({"don't", "dont"}, {"worry"}),
    ({"do"}, {"not"}, {"worry"}),
    ({"nothing"}, {"to"}, {"worry"}),
    ({"hypothetically", "hypothetical"},),
    ({"for"}, {"future"}, {"reference"}),
)


_SOMEONE = _words("i he she they we you someone somebody anyone anybody one people patients my his her your")
_GETS = _words("get gets got start starts started develop develops feel feels felt have has had experience "
               "experiences notice notices begin begins")
_ANY = lambda word: word not in _BREAKS  # noqa: E731  (one word of the same clause)
# Conditions: the phrase after them need not be happening.
CONDITIONS: Sequence[Pattern] = (
    ({"if"}, _SOMEONE, {"ever"}),
    ({"if"}, {"ever"}),
    ({"should"}, _SOMEONE, {"ever"}),
    ({"what", "wat"}, {"if"}),
    ({"what"}, {"happens", "happen", "to"}, {"if", "when"}),
    ({"in"}, {"case"}),
    ({"if"}, _SOMEONE, _GETS),
    ({"if"}, _SOMEONE, {"were", "was"}, {"to"}),
    ({"suppose", "supposing", "imagine", "hypothetically"},),
)
# Questions about the illness: hypothetical unless someone is named after them.
ASKING: Sequence[Pattern] = (
    ({"what", "how"}, {"would", "does", "do", "will", "could", "might"}),
    # Not "is it normal to have trouble breathing after surgery?": a patient asks that with it.
    ({"is", "isn't", "isnt"}, {"it"}, {"possible"}),
    ({"can", "could", "does", "do", "will", "would", "might", "may"}, {"calcification", "calcifications",
                                                                      "calcium", "it", "this", "that", "they"},
     {"cause", "lead", "give", "make", "bring"}),
    ({"can", "could", "does", "do", "will", "would", "might", "may"}, _ANY, _ANY,
     {"cause", "lead", "give", "bring"}),
)
# A doubt about what is happening ("not sure if", "don't know if"): no condition.
_DOUBT = _words("know sure wonder wondering unsure check tell whether ask asking idea")
