"""Two corrections to the classifier's intent, made after the FallbackClassifier:

- **A personal finding** ("my scan says metastatic calcification, what does that mean
  for me?", "is coronary calcium bad? mine came back with a score") is a diagnosis
  request, whatever the classifier thought: the assistant gives the caution first,
  then what the guide says about what was named (actions/canned.py).
- **A message the classifier is unsure of** (``nlu_fallback``) but whose meaning is
  close to one guide item (``guide_items`` of ``GuideItemRetriever``, cosine at least
  ``min_score``) is a question about that item's section; the answering action then
  picks the item. Measured on the dev split: see config.yml.

- **A question about which doctor** ("what type of doctor should she see?", "who does
  the surgery?") that the classifier filed under another guide question or was unsure
  of, with ``ask_specialist`` among its next two guesses, is a question about
  specialists (but not "how do I find the right specialist?", a preparation step).

- **Asking to be seen here** ("could I see one of your doctors about ...?") filed as a
  guide question, with ``request_appointment`` among the next two guesses, is a booking
  request (not the preparation step "Schedule Appointments").
- **An elliptical follow-up the classifier is unsure of** ("what about if it's cancer?")
  is a follow-up: on the conversation's thread (actions/answering.py).
- **A place in the list just shown** ("the first one, what does it do?") filed as another
  question or unsure: a follow-up, which the answering action reads against the list.
- **A request in so many words** (a second opinion; booking "at your clinic", "with
  you") filed as a guide question: a request, whatever the story around it.
- **An elliptical follow-up filed as a booking request** ("and a nephrologist?", "and
  the scans I had done elsewhere?") with no word of booking in it is a follow-up
  question: the conversation's thread, not a request (actions/answering.py).

Other requests (a person, "forget me"), small talk and emergencies are never changed
(the red-flag matcher runs after this and overrides everything).
"""

from __future__ import annotations

import re
from typing import Any, Collection, Dict, List, Optional, Text

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from guide.model import QUESTION_INTENTS
from guide.words import continues_previous, names_position

DIAGNOSIS_INTENT = "ask_diagnosis"
FALLBACK_INTENT = "nlu_fallback"
REQUEST_INTENTS = {"request_appointment", "request_second_opinion"}
FOLLOW_UP_INTENT = "ask_followup"
OUT_OF_SCOPE = "out_of_scope"
BOOKING_WORDS = re.compile(r"\b(?:book\w*|appointments?|apointments?|appt|opinion|schedul\w*|see (?:a|an|the|someone)|"
                           r"visit|slot|consult\w*|arrange|come in)\b", re.I)
# Asking to be seen here ("could I see one of your doctors", "can you book me in"): with
# request_appointment among the classifier's next two guesses (at least MIN_BOOKING_GUESS),
# a request, not a question about the guide's preparation step.
ASKS_TO_BE_SEEN = re.compile(
    r"\b(?:can|could|may|would like to|i'?d like to|want to|wanna|need to)\s+(?:i\s+|you\s+|we\s+)?"
    r"(?:book|see|get|make|have|schedule|arrange)\b[^.?!]{0,30}"
    r"\b(?:appointments?|appt|your doctors?|one of your|a doctor here|someone here|me in|him in|her in|us in)\b",
    re.I)
MIN_BOOKING_GUESS = 0.3
# A request in so many words, whatever the classifier made of the story around it: a second
# opinion (the guide has no part on one: it is always asked of the clinic), or booking
# with this clinic ("how do I book the procedure at your place").
SECOND_OPINION = re.compile(r"\b(?:second|2nd|secnd|secon|sceond)\s+opin\w*", re.I)
_HERE = r"(?:your (?:clinic|place|practice|hospital|centre|center|team|doctors?|specialists?)|with you|at yours|here)"
GETTING_READY = re.compile(r"\b(?:bring|prepar\w*|ready|documents?|papers?|records?|take along|take with|"
                           r"expect|happens?|long|cost|pay|cancel\w*)\b", re.I)
BOOK_HERE = re.compile(
    r"\b(?:book\w*|appointments?|apointments?|appt)\b[^.?!]{0,40}\b" + _HERE + r"\b"
    r"|\b" + _HERE + r"\b[^.?!]{0,40}\b(?:book\w*|appointments?|apointments?|appt)\b", re.I)
# Intents a personal finding may replace: questions about the guide, and uncertainty.
REPLACEABLE = set(QUESTION_INTENTS) | {"ask_followup", "ask_more", FALLBACK_INTENT, "out_of_scope"}
SECTION_INTENT = {}
for _intent, _section in QUESTION_INTENTS.items():
    SECTION_INTENT.setdefault(_section, _intent)

_OWNER = r"(?:my|mine|me|i|i'm|im|his|her|their|our|(?:mum|mom|dad|father|mother|son|daughter|wife|husband|" \
         r"grandma|grandpa|granny|nan|aunt|uncle|friend|partner|child|kid)'?s?)"
_RESULT = r"(?:scans?|ct|cts|mri|x-?rays?|ultrasound|mammogram|reports?|results?|bloods?|blood tests?|" \
          r"tests?|biopsy|letter|images?|echo|angiogram|score)"
# "my CT said", "the report mentions", "doctor wrote", "mine came back"
PERSONAL_RESULT = re.compile(
    rf"\b{_OWNER}\b[^.?!]{{0,60}}\b{_RESULT}\b"
    rf"|\b{_RESULT}\b[^.?!]{{0,40}}\b(?:says?|said|shows?|showed|mentions?|mentioned|found|came back|reads?|notes?)\b"
    r"|\b(?:doctor|gp|radiologist|consultant|nurse|specialist)\b[^.?!]{0,20}\b(?:wrote|writes|noted)\b"
    # "doctor say my mother have calcification in lung": told about someone's own body
    rf"|\b(?:doctors?|gp|radiologist|consultant|nurse|specialist|they)\s+(?:says?|said|told|tells|found)\b"
    rf"[^.?!]{{0,30}}\b{_OWNER}\b[^.?!]{{0,40}}\bcalci\w*"
    r"|\bmine\b[^.?!]{0,20}\bcame back\b",
    re.I)
# "what does that mean for me", "is it bad", "does metastatic mean cancer", "should I worry"
MEANING_QUESTION = re.compile(
    r"\bwhat\b[^.?!]{0,40}\bmeans?\b"
    r"|\bmean(?:s|ing)?\b[^.?!]{0,15}\bfor (?:me|him|her|us|them|my)\b"
    r"|\bdoes\b[^.?!]{0,40}\bmean\b"
    r"|\bis (?:it|this|that|mine|the \w+)\b[^.?!]{0,30}\b(?:bad|serious|dangerous|cancer|cancerous|malignant|"
    r"normal|worrying|harmful|benign)\b"
    r"|\bis\b[^.?!]{0,40}\b(?:bad|serious|dangerous|cancerous|malignant)\b\s*\?"
    r"|\bshould (?:i|we|he|she) (?:be )?(?:worr|concern|scared|afraid)"
    r"|\b(?:am i|is (?:he|she)) (?:sick|ill|going to be ok|in danger|getting|going to get|at risk)\b"
    r"|\bcould (?:that|this|it|they)\b[^.?!]{0,30}\b(?:mean|cause|put|be)\b"
    r"|\bdo(?:es)? (?:i|he|she|we) have\b(?! to\b)"
    r"|\bmean (?:i|he|she|we) (?:have|am|is|are)\b",
    re.I)


SPECIALIST_INTENT = "ask_specialist"
# "which doctor", "what type of specialist", "who does the surgery", "who treats this"
WHICH_DOCTOR = re.compile(
    r"\b(?:which|what)\s+(?:kind\s+of\s+|type\s+of\s+|sort\s+of\s+)?(?:doctors?|docs?|specialists?|"
    r"specialities|specialty|speciality|consultants?)\b"
    r"|\bwho\s+(?:does|do|would|will|should|can|could)\s+(?:the\s+)?(?:treat|operat|surger|remov|look\s+after|"
    r"deal|manage|take\s+(?:it|them)\s+out)"
    r"|\bwho\s+(?:treats|operates|removes|manages|deals\s+with|looks\s+after)\b",
    re.I)

# "how do I work out which specialist to look for?": finding one is a preparation step.
FINDING_A_DOCTOR = re.compile(r"\b(?:find|finding|look(?:ing)?\s+for|search|research|choose|pick|work\s+out)\b",
                              re.I)


def is_personal_finding(text: Text) -> bool:
    return bool(PERSONAL_RESULT.search(text) and MEANING_QUESTION.search(text))


def _set_intent(message: Message, name: Text, confidence: float) -> None:
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    intent = {"name": name, "confidence": confidence}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class GuideIntentRouter(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_score": 0.55}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._min_score = float({**self.get_default_config(), **config}["min_score"])

    @classmethod
    def create(cls, config, model_storage, resource, execution_context, **kwargs: Any):
        return cls(config)

    def process_training_data(self, training_data):
        return training_data

    def route(self, text: Text, intent: Optional[Text], hits: List[Dict[Text, Any]],
              ranking: Optional[List[Dict[Text, Any]]] = None,
              named: Collection[Text] = ()) -> Optional[tuple]:
        """(intent, confidence) to use instead of ``intent``, or None to keep it; ``named``:
        the values of the message's entities (a guide item's key, for an item named)."""
        if intent in REQUEST_INTENTS and continues_previous(text) and not BOOKING_WORDS.search(text):
            return FOLLOW_UP_INTENT, 1.0
        if intent not in REPLACEABLE:
            return None
        if intent != DIAGNOSIS_INTENT and is_personal_finding(text):
            return DIAGNOSIS_INTENT, 1.0
        if intent != FOLLOW_UP_INTENT and names_position(text):  # "the second one - when would I see them?"
            return FOLLOW_UP_INTENT, 1.0
        if not GETTING_READY.search(text):  # "what do I bring to my appointment with you?" asks the guide
            if SECOND_OPINION.search(text):
                return "request_second_opinion", 1.0
            if BOOK_HERE.search(text):
                return "request_appointment", 1.0
        next_guesses = [r for r in (ranking or [])[1:3] if isinstance(r, dict)]
        if intent in QUESTION_INTENTS or intent == FALLBACK_INTENT:
            # "Could I see one of your doctors about the calcium in my shoulder?"
            booking = next((g for g in next_guesses if g.get("name") == "request_appointment"
                            and float(g.get("confidence") or 0.0) >= MIN_BOOKING_GUESS), None)
            if booking and ASKS_TO_BE_SEEN.search(text):  # (a personal finding has returned above)
                return "request_appointment", float(booking["confidence"])
        if (intent in QUESTION_INTENTS or intent == FALLBACK_INTENT) and intent != SPECIALIST_INTENT \
                and WHICH_DOCTOR.search(text) and not FINDING_A_DOCTOR.search(text):
            for guess in next_guesses:
                if guess.get("name") == SPECIALIST_INTENT:
                    return SPECIALIST_INTENT, float(guess.get("confidence") or 0.0)
        if intent == FALLBACK_INTENT and continues_previous(text):
            return FOLLOW_UP_INTENT, 1.0  # "what about if it's cancer?": on the thread so far
        if intent == OUT_OF_SCOPE and hits and ":" in str(hits[0].get("item", "")):
            # "is that the radiologist's job?": a guide item named in words and closest in meaning
            section, key = str(hits[0]["item"]).split(":", 1)
            score = float(hits[0].get("score", 0.0))
            if key in named and score >= self._min_score and section in SECTION_INTENT:
                return SECTION_INTENT[section], score
        if intent == FALLBACK_INTENT and hits:
            ref, score = hits[0].get("item", ""), float(hits[0].get("score", 0.0))
            section = ref.split(":", 1)[0]
            if score >= self._min_score and section in SECTION_INTENT:
                return SECTION_INTENT[section], score
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text, intent = message.get(TEXT), message.get(INTENT)
            if not text or not isinstance(intent, dict):  # a training example's label is a str
                continue
            named = {str(e.get("value")) for e in message.get(ENTITIES) or [] if isinstance(e, dict)}
            routed = self.route(text, intent.get("name"), message.get("guide_items") or [],
                                message.get(INTENT_RANKING_KEY) or [], named)
            if routed:
                _set_intent(message, *routed)
        return messages
