"""The semantic layer's Rasa components, trained and loaded through Rasa's own model storage."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from guide.parsing import load_guide
from guide.paths import knowledge_files
from nlu_components.embeddings import (GUIDE_ITEMS, GuideItemRetriever, SentenceEmbeddingFeaturizer,
                                       item_passages, top_items)


@pytest.fixture(scope="module")
def guide():
    files = knowledge_files()
    return load_guide(files.guide, files.lay_terms)


def context():
    return ExecutionContext(GraphSchema({}), node_name="semantic")


def test_every_item_and_section_has_passages(guide):
    refs = {ref for ref, _ in item_passages(guide)}
    assert {i.ref for s in guide.sections.values() for i in s.items} <= refs
    assert set(guide.sections) <= refs


def test_top_items_keeps_the_best_score_per_item():
    scores = np.array([0.2, 0.9, 0.5, 0.1], dtype=np.float32)
    assert top_items(scores, ["a:x", "b:y", "a:x", "b:y"], 5) == [
        {"item": "b:y", "score": pytest.approx(0.9)}, {"item": "a:x", "score": pytest.approx(0.5)}]


def test_retriever_trains_persists_loads_and_finds_the_item(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("retriever")
    trained = GuideItemRetriever.create({}, storage, resource, context())
    trained.train(TrainingData())
    loaded = GuideItemRetriever.load({}, storage, resource, context())
    message = Message.build(text="who reads scans and x-rays")
    loaded.process([message])
    hits = message.get(GUIDE_ITEMS)
    assert hits[0]["item"] == "specialists:radiologist"
    assert hits[0]["score"] >= hits[-1]["score"] and len(hits) == 12
    assert GUIDE_ITEMS in message.as_dict(only_output_properties=True)  # reaches the tracker


def test_featurizer_adds_one_dense_sentence_feature(tmp_path):
    featurizer = SentenceEmbeddingFeaturizer.create({}, LocalModelStorage(tmp_path), Resource("f"), context())
    examples = [Message.build(text="can they cut it out", intent="ask_treatment"), Message.build(text="hi", intent="greet")]
    featurizer.process_training_data(TrainingData(examples))
    live = Message.build(text="can they cut it out")
    featurizer.process([live])
    for message in examples + [live]:
        sequence, sentence = message.get_dense_features("text", [])
        assert sequence is None and sentence.features.shape == (1, 384)
    assert np.allclose(examples[0].get_dense_features("text", [])[1].features, sentence.features, atol=1e-5)
