import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.text_guard import NoWordsClassifier, TextCleaner, safe_for_tokenizer


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("\x00\x01binary\udcff text", "binary text"),
        ("  what\tis\u00a0it?  ", "what is it?"),
        ("Cafe\u0301", "Café"),
        ("line one\nline two", "line one\nline two"),
        ("", ""),
    ],
)
def test_safe_for_tokenizer(raw, cleaned):
    assert safe_for_tokenizer(raw) == cleaned


def test_cleaner_sets_the_cleaned_text():
    [message] = TextCleaner().process([Message(data={"text": "chest\udcff pain\x00"})])
    assert message.get("text") == "chest pain"


@pytest.mark.parametrize("text", ["🙂🙂🙂", "???", "😢 !!"])
def test_no_words_is_out_of_scope(text):
    message = Message(data={"text": text, "intent": {"name": "affirm", "confidence": 0.99}})
    NoWordsClassifier().process([message])
    assert message.get("intent") == {"name": "out_of_scope", "confidence": 1.0}


@pytest.mark.parametrize("text", ["yes 👍", "¿qué es?", "2"])
def test_messages_with_words_keep_their_intent(text):
    message = Message(data={"text": text, "intent": {"name": "affirm", "confidence": 0.99}})
    NoWordsClassifier().process([message])
    assert message.get("intent")["name"] == "affirm"
