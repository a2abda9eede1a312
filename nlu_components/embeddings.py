"""The semantic layer: all-MiniLM-L6-v2 sentence embeddings (semantic.encoder) used twice.

- ``SentenceEmbeddingFeaturizer`` gives the intent classifier a dense sentence
  feature: messages that share meaning but no words ("can they cut it out" /
  "surgical removal") land near each other.
- ``GuideItemRetriever`` compares the message with every guide item (its title and
  text, and its lay phrases from knowledge/lay_terms.yml) and outputs the closest
  items with their cosine scores as ``guide_items`` in the parse data. The
  answering action uses them when the intent and the phrase entities do not decide
  which item is meant (actions/retrieval.py, ``semantic_pick`` and ``distinct_type``).

Both encode a message once (the encoder remembers recent texts). The retriever's
passage vectors are computed when it is trained and kept in the model (a few
hundred KB); the encoder's weights stay in the venv (tools/install_encoder.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from guide.model import Guide
from guide.parsing import load_guide
from guide.paths import content_fingerprint, knowledge_files
from nlu_components import knowledge_source
from semantic import encoder as sentence_encoder

logger = logging.getLogger(__name__)

GUIDE_ITEMS = "guide_items"  # the parse-data key the actions read
VECTORS_FILE = "passages.npy"
REFS_FILE = "passages.json"


def _encoder():
    return sentence_encoder.load()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """A 384-dimension sentence feature for the text of every message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, {**self.get_default_config(), **config})

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context, **kwargs: Any) -> "SentenceEmbeddingFeaturizer":
        _encoder()  # fail at start, not on the first message, if it is not installed
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        vectors = _encoder().encode([m.get(TEXT) for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(None, vector[None, :], TEXT, message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text:
                vector = _encoder().encode_one(text)
                self.add_features_to_message(None, np.array(vector)[None, :], TEXT, message)
        return messages


def item_passages(guide: Guide) -> List[Tuple[Text, Text]]:
    """(item ref, passage) for every way the knowledge files describe an item, and
    (section key, passage) for each section's heading and summary: a message closer to
    those than to any item asks for the section."""
    passages: List[Tuple[Text, Text]] = []
    for section in guide.sections.values():
        passages.append((section.key, section.heading))
        if section.summary:
            passages.append((section.key, section.summary))
        for item in section.items:
            passages.append((item.ref, f"{item.title}: {item.text}"))
            passages.append((item.ref, item.title))
    for concept in guide.concepts:
        section = guide.section_for_entity(concept.entity)
        item = section.item(concept.value) if section else None
        if item:
            passages += [(item.ref, phrase) for phrase in concept.phrases]
    return passages


def top_items(scores: np.ndarray, refs: List[Text], limit: int) -> List[Dict[Text, Any]]:
    """The best score per item, best first."""
    best: Dict[Text, float] = {}
    for ref, score in zip(refs, scores.tolist()):
        if score > best.get(ref, -2.0):
            best[ref] = score
    ranked = sorted(best.items(), key=lambda kv: -kv[1])[:limit]
    return [{"item": ref, "score": round(score, 4)} for ref, score in ranked]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GuideItemRetriever(GraphComponent):
    """Adds ``guide_items``: the closest guide items to the message, with cosine scores."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"top": 12}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        files = knowledge_files()
        return content_fingerprint(files.guide, files.lay_terms)

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vectors: Optional[np.ndarray] = None, refs: Optional[List[Text]] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._vectors = vectors if vectors is not None else np.zeros((0, sentence_encoder.DIMENSION), np.float32)
        self._refs = refs or []

    @classmethod
    def create(cls, config, model_storage, resource, execution_context, **kwargs: Any):
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config, model_storage, resource, execution_context, **kwargs: Any):
        files = knowledge_files()
        with model_storage.read_from(resource) as path:
            vectors = np.load(path / VECTORS_FILE)
            refs = rasa.shared.utils.io.read_json_file(path / REFS_FILE)
            knowledge_source.warn_if_changed(path, (files.guide, files.lay_terms), cls.__name__)
        _encoder()
        return cls(config, model_storage, resource, vectors, refs)

    def train(self, training_data: TrainingData) -> Resource:
        files = knowledge_files()
        passages = item_passages(load_guide(files.guide, files.lay_terms))
        self._refs = [ref for ref, _ in passages]
        self._vectors = _encoder().encode([text for _, text in passages])
        with self._model_storage.write_to(self._resource) as path:
            np.save(path / VECTORS_FILE, self._vectors)
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / REFS_FILE, self._refs)
            knowledge_source.record(path, (files.guide, files.lay_terms))
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not self._refs:
                continue
            scores = self._vectors @ _encoder().encode_one(text)
            message.set(GUIDE_ITEMS, top_items(scores, self._refs, self._config["top"]),
                        add_to_output=True)
        return messages
