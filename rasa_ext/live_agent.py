"""While a person holds a conversation, the assistant stays silent: ``LiveAgentPolicy``.

The staff console takes a conversation over through Rasa's staff relay
(channels/staff_relay.py), which sets the slot ``live_agent`` to the staff member's name.
While it is set, this policy answers every patient message with ``action_listen`` at
full confidence and a priority above the RulePolicy's (6), so no rule, form or fallback
speaks over the person. The patient's message is still stored, and the staff member
sees it in the console.

Exception: a red flag. For ``report_emergency`` this policy abstains, so the rules give
the emergency advice first, as they do at any other time.

Nothing to learn: ``train`` stores nothing, and the policy costs one slot lookup a turn.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class LiveAgentPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "priority": 7,  # above RulePolicy (6): a tie at confidence 1.0 goes to the person
            "slot": "live_agent",
            "still_answered": ["report_emergency"],
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, featurizer: Optional[Any] = None) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.slot = config["slot"]
        self.still_answered = set(config["still_answered"])

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def silent(self, tracker: DialogueStateTracker) -> bool:
        """True when a person holds the conversation and the patient has just written."""
        if not tracker.get_slot(self.slot) or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return False
        return tracker.latest_message is not None and \
            (tracker.latest_message.intent or {}).get("name") not in self.still_answered

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        result = self._default_predictions(domain)
        if self.silent(tracker):
            result[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(result)
