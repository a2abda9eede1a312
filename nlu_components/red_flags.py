"""Deterministic red-flag check on every message.

When a phrase of ``knowledge/red_flags.yml`` appears in a message, this component
sets the intent to ``report_emergency`` with confidence 1.0 (the classifier's own
ranking is kept below it) and adds a ``red_flag`` entity per symptom. It runs last
in the NLU pipeline, after the FallbackClassifier, so neither a low classifier
confidence nor any other intent can hide an emergency; the rules then answer
``report_emergency`` with emergency advice first, in and outside forms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from nlu_components.guide_entities import file_fingerprint, load_spacy
from nlu_components.phrase_matching import PhraseIndex

EMERGENCY_INTENT = "report_emergency"
RED_FLAG_ENTITY = "red_flag"
FLAGS_FILE = "red_flags.json"


class RedFlagFileError(Exception):
    """The red-flag phrase file is missing or malformed."""


def read_flags(path: Path) -> Dict[Text, Dict[Text, Any]]:
    """{flag id: {"label": str, "phrases": [str, ...]}} from the YAML file, checked."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RedFlagFileError(f"cannot read red-flag file {path}: {exc}") from exc
    flags = (data or {}).get("flags") if isinstance(data, dict) else None
    if not isinstance(flags, dict) or not flags:
        raise RedFlagFileError(f"red-flag file {path} has no 'flags' mapping")
    for flag, spec in flags.items():
        if not isinstance(spec, dict) or not spec.get("phrases") or not spec.get("label"):
            raise RedFlagFileError(f"red flag '{flag}' in {path} needs a label and phrases")
    return flags


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

    def find(self, text: Text) -> List[Dict[Text, Any]]:
        return [
            {
                "entity": RED_FLAG_ENTITY,
                "start": m.start,
                "end": m.end,
                "value": m.value,
                "label": self.flags[m.value]["label"],
            }
            for m in self._index.find(text)
        ]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class RedFlagMatcher(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"spacy_model": "build/spacy-en", "red_flags": "knowledge/red_flags.yml"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        return file_fingerprint({**cls.get_default_config(), **config}["red_flags"])

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
        return cls(config, model_storage, resource, flags)

    def train(self, training_data: TrainingData) -> Resource:
        self._flags = read_flags(Path(self._config["red_flags"]))
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / FLAGS_FILE, self._flags)
        return self._resource

    @property
    def detector(self) -> RedFlagDetector:
        if self._detector is None:
            self._detector = RedFlagDetector(
                load_spacy(self._config["spacy_model"]), self._flags
            )
        return self._detector

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.detector.find(message.get(TEXT) or "")
            if not found:
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
