"""rasa_ext.live_agent.LiveAgentPolicy with the project's domain and real Rasa trackers."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.live_agent import LiveAgentPolicy
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def policy(tmp_path):
    return LiveAgentPolicy.create(LiveAgentPolicy.get_default_config(), LocalModelStorage(tmp_path),
                                  Resource("live_agent"), ExecutionContext(GraphSchema({}), "test"))


def tracker(domain, held_by=None, intent="ask_definition", after=ACTION_LISTEN_NAME):
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    if held_by:
        events.append(SlotSet("live_agent", held_by))
    events.append(UserUttered("what are calcified lesions?", intent={"name": intent, "confidence": 0.9}))
    if after != ACTION_LISTEN_NAME:
        events.append(ActionExecuted(after))
    return DialogueStateTracker.from_events("p", events, slots=domain.slots)


def predicted(policy, domain, t):
    prediction = policy.predict_action_probabilities(t, domain)
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    return (domain.action_names_or_texts[best] if prediction.max_confidence > 0 else None,
            prediction.max_confidence, prediction.policy_priority)


def test_silent_while_a_person_holds_the_conversation(policy, domain):
    assert predicted(policy, domain, tracker(domain, "alice")) == (ACTION_LISTEN_NAME, 1.0, 7)


@pytest.mark.parametrize("intent", ["request_booking", "request_human", "nlu_fallback", "restart", "goodbye"])
def test_silent_for_every_kind_of_message_but_an_emergency(policy, domain, intent):
    assert predicted(policy, domain, tracker(domain, "alice", intent))[0] == ACTION_LISTEN_NAME


def test_an_emergency_is_left_to_the_rules(policy, domain):
    assert predicted(policy, domain, tracker(domain, "alice", "report_emergency"))[1] == 0.0


def test_abstains_when_nobody_holds_it(policy, domain):
    assert predicted(policy, domain, tracker(domain, None))[1] == 0.0
    handed_back = tracker(domain, "alice")
    handed_back.update(SlotSet("live_agent", None))
    assert predicted(policy, domain, handed_back)[1] == 0.0


def test_abstains_after_an_action_of_the_turn(policy, domain):
    # e.g. after the emergency advice: the rules end the turn
    assert predicted(policy, domain, tracker(domain, "alice", "report_emergency",
                                             after="action_give_emergency_advice"))[1] == 0.0
