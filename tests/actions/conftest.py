from typing import Dict, List, Optional

import pytest
from rasa_sdk import Tracker

from actions import resources
from actions.settings import Settings


@pytest.fixture(autouse=True)
def loaded_resources():
    """The action server's resources, loaded from the shipped knowledge files."""
    return resources.load(Settings.from_env({}))


def make_tracker(
    text: str,
    intent: str,
    entities: Optional[List[Dict]] = None,
    slots: Optional[Dict] = None,
    ranking: Optional[List[Dict]] = None,
    guide_items: Optional[List[Dict]] = None,
) -> Tracker:
    slots = {"disclaimer_shown": True, **(slots or {})}
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.97}],
    }
    if guide_items is not None:
        message["guide_items"] = guide_items
    return Tracker(
        sender_id="patient-1",
        slots=slots,
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str) -> Dict:
    return {"entity": name, "value": value, "start": 0, "end": 1, "extractor": "GuideEntityExtractor"}
