"""Deterministic red-flag check on every message.

When a phrase of ``knowledge/red_flags.yml`` appears in a message, this component
sets the intent to ``report_emergency`` with confidence 1.0 (the classifier's own
ranking is kept below it) and adds a ``red_flag`` entity per symptom. It runs last
in the NLU pipeline, after the FallbackClassifier, so neither a low classifier
confidence nor any other intent can hide an emergency; the rules then answer
``report_emergency`` with emergency advice first, in and outside forms.

The phrases come from the file ``guide.paths.knowledge_files`` names (read with
``guide.red_flags.read_flags``, as the action server reads the flags' labels).

A phrase found in a negated, past or reassuring mention ("no chest pain", "I fainted
years ago but I'm fine now", "just curious, what does chest pain feel like") is dropped,
by the rules of ``guide.negation``; a phrase whose own words negate ("can't breathe",
"won't wake up") is the symptom and is kept, and so is any other phrase of the message.
"""

from __future__ import annotations

import ctypes
import gc
import re
import threading

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from clinic.responses import RED_FLAG_PLAN_KEY
from guide.negation import HYPOTHETICAL as CONDITIONAL, SymptomContext
from guide.paths import content_fingerprint, knowledge_files
from guide.red_flags import read_flags
from nlu_components import knowledge_source
from nlu_components.phrase_matching import PhraseIndex, PhraseMatch
from nlu_components.routing import FALLBACK_INTENT, GuideIntentRouter
from nlu_components.spacy_pipeline import load_spacy

EMERGENCY_INTENT = "report_emergency"
RED_FLAG_ENTITY = "red_flag"
FLAGS_FILE = "red_flags.json"


def phrase_triples(flags: Dict[Text, Dict[Text, Any]]) -> List[List[Text]]:
    return [
        [RED_FLAG_ENTITY, flag, str(phrase)]
        for flag, spec in flags.items()
        for phrase in spec["phrases"]
    ]


class RedFlagDetector:
    """The matcher itself, usable outside Rasa (tests, the eval report)."""

    def __init__(self, nlp, flags: Dict[Text, Dict[Text, Any]]) -> None:
        self.flags = flags
        # Four-letter words are corrected too ("chest pian"): a false alarm costs less here.
        self._index = PhraseIndex(nlp, phrase_triples(flags), by_lemma=False, min_typo_length=4)
        # Phrases with a gap, per flag and by their first and last words: a negation in the
        # gap ("speech isn't slurred") counts. (Word classes make thousands of them.)
        self._gapped: Dict[Tuple[Text, Text, Text], List[Text]] = {}
        for flag, spec in flags.items():
            for phrase in spec["phrases"]:
                if "..." in str(phrase):
                    words = _edge_words(str(phrase))
                    self._gapped.setdefault((flag, words[0], words[-1]), []).append(str(phrase))

    def find(self, text: Text) -> List[Dict[Text, Any]]:
        """The red flags of ``text`` that are present symptoms, in text order."""
        return [
            {
                "entity": RED_FLAG_ENTITY,
                "start": m.start,
                "end": m.end,
                "value": m.value,
                "label": self.flags[m.value]["label"],
            }
            for m in self._present_matches(text)
        ]

    def mentions_any(self, text: Text) -> bool:
        """Whether any listed phrase occurs in ``text``, present or discounted."""
        return bool(self._index.find(text.translate(_APOSTROPHES)))

    def planned(self, text: Text) -> List[Text]:
        """The red flags a question asks what to do about should they happen ("what should I
        do if I ever get chest pain?"): mentioned only under a condition, with a question
        about acting. The answer to that is the emergency number, said calmly (not the
        alarm: nothing is happening), then the guide (actions/base.py)."""
        text = text.translate(_APOSTROPHES)
        if not ACTION_QUESTION.search(text):
            return []
        context = SymptomContext(text)
        flags: List[Text] = []
        for m in self._index.find(text):
            if self._why_not_present(context, m) == CONDITIONAL and m.value not in flags:
                flags.append(m.value)
        return flags

    def only_discounted(self, text: Text) -> bool:
        """True when ``text`` names red flags but every one is negated, past or played
        down ("no chest pain, just curious"): nothing here is an emergency."""
        return self.mentions_any(text) and not self._present_matches(text)

    def _present_matches(self, text: Text) -> List[PhraseMatch]:
        # Phones type "can’t": one character for another, so the offsets stay right.
        text = text.translate(_APOSTROPHES)
        matches = self._index.find(text)
        if not matches:
            return []
        context = SymptomContext(text)
        kept = [m for m in matches if self._is_present(context, m)]
        if len(kept) == len(matches):
            return matches
        # A dropped phrase with a gap may reach over a clause break and hide a phrase
        # there ("no chest pressure, chest pain now" is "chest ... pain" at first): each
        # clause it reaches into is searched on its own.
        reaching = [m for m in matches if m not in kept]
        seen = {(m.start, m.end, m.value) for m in matches}
        for start, end in context.clause_spans():
            if not any(start < m.end and m.start < end and not start <= m.start < m.end <= end
                       for m in reaching):
                continue
            for m in self._index.find(text[start:end]):
                m = _shifted(m, start, text)
                if (m.start, m.end, m.value) not in seen and self._is_present(context, m):
                    seen.add((m.start, m.end, m.value))
                    kept.append(m)
        return _without_overlaps(kept)

    def _is_present(self, context: SymptomContext, m: PhraseMatch) -> bool:
        if _NO_TROUBLE.match(context.text, m.end) and _NO.match(context.text[m.start:m.end]):
            return False  # "no breathing problems": not the phrase "no breathing"
        return self._why_not_present(context, m) is None

    def _why_not_present(self, context: SymptomContext, m: PhraseMatch) -> Optional[Text]:
        """guide.negation's verdict on one match, with the gapped phrases it may come from."""
        words = _edge_words(context.text[m.start:m.end])
        gapped = self._gapped.get((m.value, words[0], words[-1]), []) if words else []
        return context.why_not_present(m.start, m.end, gapped)


_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\s\w]")


def _edge_words(text: Text) -> List[Text]:
    """The first and last words, as guide.negation tokenises them."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text) if w != "..."]
    words = [w for w in words if w != "."] or words
    return [words[0], words[-1]] if words else []


# Asking what to do or whom to call: "what should I do", "who do we call", "should I go to A&E".
ACTION_QUESTION = re.compile(
    r"\bwhat (?:should|do|would|must|shall|can) (?:i|we|he|she|they|you) do\b|\bwhat to do\b"
    r"|\bwho (?:should|do|shall|would) (?:i|we) (?:call|contact|ring|phone)\b|\bwho to (?:call|contact|ring)\b"
    r"|\bshould (?:i|we) (?:call|ring|phone|go)\b|\b(?:when|where) (?:should|do) (?:i|we) (?:call|go)\b", re.I)


# "no breathing" is a phrase of its own (he has no breathing), "no breathing problems"
# denies the trouble: a phrase that starts with "no" and is followed by one of these.
_NO = re.compile(r"no\b", re.I)
_NO_TROUBLE = re.compile(r"\s+(?:problems?|issues?|troubles?|difficult(?:y|ies)|complaints?|worries)\b",
                         re.I)

RESOLVED = re.compile(
    r"\b(?:years?|yrs?|months?|weeks?|days?)\s+(?:ago|back)\b|\blast (?:year|month)\b|\banymore\b"
    r"|\bno longer\b|\bstopped\b|\b(?:is|was|she's|he's|shes|hes|i'm|im|am|are|they're) "
    r"(?:fine|ok|okay|stable|better|recovered|well)\b", re.I)

# Words of symptoms the phrase list does not hold alone ("bleeding", "fever"): an alarm
# the classifier raises on them alone gives way when every one is negated, past or
# played down ("wound isn't bleeding and no fever, healing nicely").
SYMPTOM_WORDS = re.compile(
    r"\b(?:bleed\w*|blood|fever\w*|temperature|pains?|painful|hurts?|hurting|faint\w*|collaps\w*|breath\w*|"
    r"chest|numb\w*|seizures?|strokes?|dizz\w*|vomit\w*|swell\w*|swollen|red|redness|confus\w*|"
    r"unconscious|chok\w*|headaches?|weak|weakness)\b", re.I)
# A question that asks what to do "if" or "what the symptoms are": information, not an event.
HYPOTHETICAL = re.compile(
    r"\b(?:if (?:i|he|she|we|you|they|my \w+) (?:ever |were to |should )?(?:got|get|gets|had|have|has|went|go)\b"
    r"|hypothetical\w*|what (?:are|r|would be) the (?:signs|symptoms)|signs of|symptoms of|just asking"
    r"|just curious|no emergency|not an emergency)", re.I)
# Below this confidence, a classifier alarm on a question with no listed phrase and no
# symptom word answers the question: on the dev sets (tests/eval/blind/ dev, fresh, late
# and tests/eval/emergencies.yml) such alarms were all false (0.53, 0.56: "how do i bake
# sourdough bread", "calcium score came back high, am i going to have a heart attack?"),
# and no emergency was caught by the classifier alone below 1.0.
WEAK_ALARM = 0.75
_QUESTION = re.compile(r"\?|^\s*(?:what|how|who|why|when|where|which|can|could|do|does|is|are|will|would|"
                       r"should)\b", re.I)


def classifier_only_alarm_stands_down(text: Text, confidence: float) -> bool:
    """An emergency guessed by the classifier alone (for a message with no red-flag
    phrase in it, present or discounted) gives way to its next guess when the symptom words it keyed on
    are all negated, past or played down, when the question is hypothetical, or when it
    is a question guessed only weakly that names no symptom at all. An emergency in words
    the list lacks, stated as happening, still stands."""
    cleaned = text.translate(_APOSTROPHES)
    context = SymptomContext(cleaned)
    present = [m for m in SYMPTOM_WORDS.finditer(cleaned) if not context.why_not_present(m.start(), m.end())]
    if not present and SYMPTOM_WORDS.search(cleaned):
        return True  # every symptom word negated, past or played down
    if _QUESTION.search(text):
        return bool(HYPOTHETICAL.search(text) or (confidence < WEAK_ALARM and not present))
    return False


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def _shifted(m: PhraseMatch, offset: int, text: Text) -> PhraseMatch:
    start, end = m.start + offset, m.end + offset
    return PhraseMatch(start, end, m.label, m.value, text[start:end], m.corrected)


def _without_overlaps(matches: List[PhraseMatch]) -> List[PhraseMatch]:
    """Longest first, as the phrase index chooses; one span may carry several flags."""
    accepted: List[PhraseMatch] = []
    for m in sorted(matches, key=lambda m: (m.start - m.end, m.start)):
        if not any(
            m.start < a.end and a.start < m.end
            and ((a.start, a.end) != (m.start, m.end) or a.value == m.value)
            for a in accepted
        ):
            accepted.append(m)
    return sorted(accepted, key=lambda m: (m.start, m.end, m.value))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class RedFlagMatcher(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # No red-flag file path here: it comes from guide.paths, like the action server's.
        return {"spacy_model": "build/spacy-en", "next_guess_share": 0.2, "min_score": 0.55}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """Rasa retrains the matcher when the red-flag file's contents change."""
        return content_fingerprint(knowledge_files().red_flags)

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        flags: Optional[Dict[Text, Any]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._flags = flags or {}
        self._detector: Optional[RedFlagDetector] = None
        self._building = threading.Lock()

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "RedFlagMatcher":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "RedFlagMatcher":
        with model_storage.read_from(resource) as path:
            flags = rasa.shared.utils.io.read_json_file(path / FLAGS_FILE)
            knowledge_source.warn_if_changed(path, [knowledge_files().red_flags], cls.__name__)
        matcher = cls(config, model_storage, resource, flags)
        # Building the matcher's patterns (thousands, from the word classes) takes a second or
        # two: done beside the rest of the model's loading, so that neither the time to ready
        # nor the first patient's message waits for all of it.
        threading.Thread(target=matcher._build, name="red-flag-patterns", daemon=True).start()
        return matcher

    def _build(self) -> None:
        self.detector  # noqa: B018 - builds it
        # Tokenising the ~20,000 phrases the word classes make leaves freed memory that
        # glibc keeps: given back, the process is ~20 MB smaller (RSS, measured).
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc: nothing to give back this way
            pass

    def train(self, training_data: TrainingData) -> Resource:
        red_flags = knowledge_files().red_flags
        self._flags = read_flags(red_flags)
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / FLAGS_FILE, self._flags)
            knowledge_source.record(path, [red_flags])
        return self._resource

    @property
    def detector(self) -> RedFlagDetector:
        with self._building:
            if self._detector is None:
                self._detector = RedFlagDetector(load_spacy(self._config["spacy_model"]), self._flags)
        return self._detector

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.detector.find(message.get(TEXT) or "")
            if not found:
                plan = self.detector.planned(message.get(TEXT) or "")
                if plan:
                    message.set(RED_FLAG_PLAN_KEY, plan, add_to_output=True)
                self._drop_discounted_emergency(message)
                continue
            for entity in found:
                entity["extractor"] = self.__class__.__name__
                entity.pop("label")
            previous = message.get(INTENT) or {}
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMERGENCY_INTENT
            ]
            top = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
            if previous.get("name") not in (None, EMERGENCY_INTENT):
                message.set("overridden_intent", previous, add_to_output=True)
        return messages

    def _drop_discounted_emergency(self, message: Message) -> None:
        """The classifier read "no chest pain at all" as an emergency because of its words;
        when every red-flag phrase of the message is negated, past or played down, its
        next guess stands instead. (An emergency in words the phrase list lacks, with no
        discounted phrase, still reaches the rules as the classifier said.)"""
        intent = message.get(INTENT) or {}
        if not isinstance(intent, dict) or intent.get("name") != EMERGENCY_INTENT:
            return
        text = message.get(TEXT) or ""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMERGENCY_INTENT]
        if not ranking:
            return
        # No listed phrase at all, but the classifier keyed on a word like "stroke" or
        # "bleeding" in a story that is over ("years ago", "stopped", "fine now") and the
        # patient asks a question about the guide: that question stands.
        # The question is the classifier's best guide question among its next three guesses
        # ("the bleeding stopped days ago, how do I care for the wound?" ranks out_of_scope
        # just above ask_recovery once the alarm is set aside).
        question = next((r for r in ranking[:3] if str(r.get("name", "")).startswith("ask_")), None)
        # (Called only when ``find`` found no present phrase: see ``process``.)
        resolved_question = question is not None and "?" in text and RESOLVED.search(text)
        if resolved_question:
            ranking = [question] + [r for r in ranking if r is not question]
        elif self.detector.mentions_any(text):
            pass  # listed phrases, none present (``find`` found none): all negated, past or played down
        elif not classifier_only_alarm_stands_down(text, float(intent.get("confidence") or 0.0)):
            return
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set("overridden_intent", intent, add_to_output=True)
        # The next guess's share of what the alarm left: how sure the classifier was among
        # the other intents (0.08 of 0.1 left is sure; 0.008 of 0.05 is noise).
        left = max(1e-9, 1.0 - float(intent.get("confidence") or 0.0))
        if float(ranking[0].get("confidence") or 0.0) / left < self._config["next_guess_share"]:
            self._reroute_unsure(message, text, ranking, keep_question=bool(resolved_question))

    def _reroute_unsure(self, message: Message, text: Text, ranking: List[Dict[Text, Any]],
                        keep_question: bool = False) -> None:
        """The alarm set aside, the classifier's next guess is often noise ("I have no chest
        pain, I just read my dad's report. What is atherosclerotic calcification?": 0.008 for
        a second opinion, 16% of the 0.05 the alarm left). With less than ``next_guess_share``
        of what was left, that guess is no better than ``nlu_fallback``:
        so it is treated as the router treats one (the guide item closest in meaning, a
        personal finding, a follow-up), and stays ``nlu_fallback`` otherwise: never a
        booking form started on a guess of 0.8%."""
        unsure = {"name": FALLBACK_INTENT, "confidence": 0.0}
        routed = GuideIntentRouter({"min_score": self._config["min_score"]}).route(
            text, FALLBACK_INTENT, message.get("guide_items") or [], [unsure] + ranking)
        if not routed and keep_question:
            return  # the story is over and a guide question was among the next guesses: it stands
        top = {"name": routed[0], "confidence": routed[1]} if routed else unsure
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top] + [r for r in ranking if r.get("name") != top["name"]],
                    add_to_output=True)
