"""The action server's answer is checked exactly as Rasa checks it, with a validator built once."""


import jsonschema
import pytest
from hypothesis import given, settings, strategies as st
from rasa.core.actions.action import RemoteAction

from rasa_ext import action_calls

action_calls.install()
SCHEMA = RemoteAction.action_response_format_spec()
ACTION = RemoteAction("action_answer_question", None)

VALID = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "section", "value": "types"}],
     "responses": [{"text": "hello", "buttons": [{"title": "a", "payload": "/b"}]}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": "x"},
    {"events": [1, 2]},
]


def rasa_says_valid(result) -> bool:  # what Rasa 3.6 does on every call
    try:
        jsonschema.validate(result, SCHEMA)
        return True
    except jsonschema.ValidationError:
        return False


@pytest.mark.parametrize("result", VALID)
def test_a_valid_answer_passes(result):
    assert rasa_says_valid(result) and ACTION._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_an_invalid_answer_is_refused_with_rasas_explanation(result):
    assert not rasa_says_valid(result)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        ACTION._validate_action_result(result)


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                           st.sampled_from(["event", "name", "value", "text", "events", "responses", "x"]),
                           inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(["events", "responses", "other"]), JSONISH, max_size=3))
def test_it_agrees_with_rasas_own_check_on_any_answer(result):
    try:
        ours = ACTION._validate_action_result(result)
    except jsonschema.ValidationError:
        ours = False
    assert ours == rasa_says_valid(result)


def test_the_schema_is_not_checked_again_on_every_call(monkeypatch):
    calls = []
    validator = jsonschema.validators.validator_for(SCHEMA)
    monkeypatch.setattr(validator, "check_schema", classmethod(lambda cls, s: calls.append(s)))
    for _ in range(20):
        ACTION._validate_action_result(VALID[2])
    assert calls == []


KINDS = [kind["properties"]["event"]["const"] for kind in SCHEMA["properties"]["events"]["items"]["oneOf"]]
FIELDS = st.sampled_from(["name", "value", "text", "timestamp", "metadata", "entities", "parse_data",
                          "policy", "confidence", "action_text", "intent", "x"])
EVENT = st.builds(lambda kind, extra: ({"event": kind} if kind is not None else {}) | extra,
                  st.sampled_from(KINDS + ["nonsense", None]),
                  st.dictionaries(FIELDS, JSONISH | st.floats(allow_nan=False) | st.dictionaries(
                      st.sampled_from(["name", "confidence", "entity", "start", "end", "value"]), JSONISH,
                      max_size=3), max_size=4))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(EVENT, max_size=4), st.sampled_from([[], [{"text": "hi"}], "x", None]))
def test_checking_each_event_against_its_own_kind_agrees_with_rasa(events, responses):
    """The quick path (one kind per event) accepts exactly what Rasa's oneOf accepts."""
    result = {"events": events} | ({"responses": responses} if responses is not None else {})
    try:
        ours = ACTION._validate_action_result(result)
    except jsonschema.ValidationError:
        ours = False
    assert ours == rasa_says_valid(result)
