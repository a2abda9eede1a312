"""Guards at both ends of the NLU pipeline for text that is not a normal message.

``TextCleaner`` (first): removes what would crash or confuse the tokenizer, such as
lone UTF-16 surrogates from broken clients, NUL and other control characters, and
normalises Unicode (NFC) and white space.

``NoWordsClassifier`` (last but one, before the red-flag matcher): a message without
a single letter or digit ("🙂🙂", "???") has nothing to classify; the classifier
would still pick some intent with high confidence. It is marked ``out_of_scope``, so
the patient is told what the assistant can help with.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def safe_for_tokenizer(text: Text) -> Text:
    """Control characters and lone surrogates as spaces, NFC, single spaces (line breaks kept)."""
    text = _CONTROL.sub(" ", text or "")
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def has_words(text: Text) -> bool:
    return any(ch.isalnum() for ch in text or "")


class _Stateless(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_Stateless":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class TextCleaner(_Stateless):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                cleaned = safe_for_tokenizer(text)
                if cleaned != text:
                    message.set(TEXT, cleaned)
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class NoWordsClassifier(_Stateless):
    INTENT_NAME = "out_of_scope"

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text and not has_words(text):
                top = {"name": self.INTENT_NAME, "confidence": 1.0}
                message.set(INTENT, top, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [top], add_to_output=True)
        return messages
