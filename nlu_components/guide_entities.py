"""Rule-based entity layer built from the guide and the lay-terms file.

Every item title of the guide and every lay phrase of ``knowledge/lay_terms.yml``
becomes a phrase. Two components use the phrases:

- ``GuideEntityFeaturizer`` (before the classifier) tells the classifier which kinds
  of things a message names: a preparation step points to ``ask_preparation``,
  a treatment to ``ask_treatment``, even in wordings the training data lacks.
- ``GuideEntityExtractor`` (after the classifier) outputs the entities, whose values
  are already canonical (the item's key, e.g. ``surgical_removal``), so no synonym
  mapper is needed.

Both read the knowledge files at training time (the paths of
``guide.paths.knowledge_files``, the same the action server answers from) and keep
the phrases in the model; they share one matcher per process.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from guide.parsing import load_guide
from guide.paths import content_fingerprint, knowledge_files
from nlu_components import knowledge_source
from nlu_components.phrase_matching import PhraseIndex
from nlu_components.spacy_pipeline import load_spacy

logger = logging.getLogger(__name__)

PHRASES_FILE = "phrases.json"


def guide_files() -> Tuple[Path, Path]:
    """The guide and its lay-terms file, as the environment names them now."""
    files = knowledge_files()
    return files.guide, files.lay_terms


@lru_cache(maxsize=8)
def shared_index(spacy_model: Text, phrases: Tuple[Tuple[Text, Text, Text], ...]) -> PhraseIndex:
    """One matcher per process for the same phrases, however many components use it."""
    return PhraseIndex(
        load_spacy(spacy_model), phrases,
        nested_labels=("location", "cause"), containers=("lesion_type",),
    )


class GuidePhrasesComponent(GraphComponent):
    """Reads the guide's phrases when trained, keeps them in the model storage."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # No knowledge file paths here: they come from guide.paths, like the action server's.
        return {"spacy_model": "build/spacy-en"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """Rasa retrains the component when the knowledge files' contents change."""
        return content_fingerprint(*guide_files())

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

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs: Any):
        with model_storage.read_from(resource) as path:
            phrases = rasa.shared.utils.io.read_json_file(path / PHRASES_FILE)
            knowledge_source.warn_if_changed(path, guide_files(), cls.__name__)
        return cls(config, model_storage, resource, phrases)

    def train(self, training_data: TrainingData) -> Resource:
        files = guide_files()
        guide = load_guide(*files)
        self._phrases = [list(p) for p in guide.entity_phrases()]
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / PHRASES_FILE, self._phrases)
            knowledge_source.record(path, files)
        return self._resource

    @property
    def index(self) -> PhraseIndex:
        return shared_index(self._config["spacy_model"], tuple(map(tuple, self._phrases)))

    @property
    def labels(self) -> List[Text]:
        return sorted({label for label, _, _ in self._phrases})


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class GuideEntityFeaturizer(GuidePhrasesComponent, SparseFeaturizer):
    """Sparse features: which entity types cover each token, and the whole message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), **GuidePhrasesComponent.get_default_config()}

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def __init__(self, config, model_storage, resource, phrases=None) -> None:
        GuidePhrasesComponent.__init__(self, config, model_storage, resource, phrases)
        SparseFeaturizer.__init__(self, self.__class__.__name__, self._config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        labels = {label: i for i, label in enumerate(self.labels)}
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT], [])
            if not tokens or not labels:
                continue
            sequence = np.zeros([len(tokens), len(labels)])
            sentence = np.zeros([1, len(labels)])
            for match in self.index.find(message.get(TEXT) or ""):
                column = labels[match.label]
                sentence[0, column] = 1.0
                for row, token in enumerate(tokens):
                    if token.start < match.end and token.end > match.start:
                        sequence[row, column] = 1.0
            self.add_features_to_message(
                scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
            )
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class GuideEntityExtractor(GuidePhrasesComponent, EntityExtractorMixin):
    """Finds the guide's types, items, specialists, locations and causes in a message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **GuidePhrasesComponent.get_default_config(),
            # intent -> entity listed first when one phrase names items of two sections
            "prefer_for_intent": {},
        }

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry their own annotations; nothing to add.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        prefer = self._config["prefer_for_intent"] or {}
        for message in messages:
            text = message.get(TEXT) or ""
            preferred = prefer.get((message.get(INTENT) or {}).get("name"))
            # Longest first at each position (a type phrase before the place inside
            # it), then the entity of the section the intent asks about.
            matches = sorted(
                self.index.find(text),
                key=lambda m: (m.start, -m.end, m.label != preferred),
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
