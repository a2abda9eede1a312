"""Rule-based entity layer built from the guide and the lay-terms file.

Every item title of the guide and every lay phrase of ``knowledge/lay_terms.yml``
becomes a phrase; a match yields an entity whose value is already canonical
(the item's key, e.g. ``surgical_removal``), so no synonym mapper is needed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from nlu_components.phrase_matching import PhraseIndex

logger = logging.getLogger(__name__)

PHRASES_FILE = "phrases.json"


def file_fingerprint(*paths: Text) -> Text:
    """Content hash of the files a component reads, so Rasa retrains when they change."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode())
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def load_spacy(path: Text):
    import spacy

    return spacy.load(path)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class GuideEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds the guide's types, items, specialists, locations and causes in a message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "spacy_model": "build/spacy-en",
            "guide": "knowledge/calcified-lesions.txt",
            "lay_terms": "knowledge/lay_terms.yml",
            # intent -> entity listed first when one phrase names items of two sections
            "prefer_for_intent": {},
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        config = {**cls.get_default_config(), **config}
        return file_fingerprint(config["guide"], config["lay_terms"])

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        phrases: Optional[List[List[Text]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._phrases = phrases or []
        self._index: Optional[PhraseIndex] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "GuideEntityExtractor":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "GuideEntityExtractor":
        with model_storage.read_from(resource) as path:
            phrases = rasa.shared.utils.io.read_json_file(path / PHRASES_FILE)
        return cls(config, model_storage, resource, phrases)

    def train(self, training_data: TrainingData) -> Resource:
        from actions.knowledge import load_guide

        guide = load_guide(Path(self._config["guide"]), Path(self._config["lay_terms"]))
        self._phrases = [list(p) for p in guide.entity_phrases()]
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / PHRASES_FILE, self._phrases)
        return self._resource

    @property
    def index(self) -> PhraseIndex:
        if self._index is None:
            self._index = PhraseIndex(load_spacy(self._config["spacy_model"]), self._phrases)
        return self._index

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry their own annotations; nothing to add.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        prefer = self._config["prefer_for_intent"] or {}
        for message in messages:
            text = message.get(TEXT) or ""
            preferred = prefer.get((message.get(INTENT) or {}).get("name"))
            matches = sorted(
                self.index.find(text), key=lambda m: (m.start, m.end, m.label != preferred)
            )
            entities = [
                {
                    "entity": m.label,
                    "start": m.start,
                    "end": m.end,
                    "value": m.value,
                    "confidence_entity": 0.9 if m.corrected else 1.0,
                }
                for m in matches
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(entities),
                add_to_output=True,
            )
        return messages
