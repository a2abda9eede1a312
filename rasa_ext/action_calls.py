"""Checking the action server's answer once per call, not the check itself too.

Rasa 3.6 checks every answer of the action server against its response schema with
``jsonschema.validate(result, schema)``, which first checks the *schema* against the
JSON Schema meta-schema and builds a new validator, on every call: 19.5 ms per action
call here, about half of a message's time inside Rasa (tools/loadtest/profile.py;
``make bench`` reports the breakdown). The same check with a validator built once takes
well under a millisecond and raises the same ``ValidationError`` with the same
explanation.

That millisecond (0.87 ms for a typical answer) was still mostly the events' ``oneOf``:
each event checked against all 23 event kinds. The kinds differ by their ``event``
constant, so exactly one can match: an event is checked against its own kind only, and
an answer this finds wrong is checked again the full way, for Rasa's own error.
"""

from __future__ import annotations

from typing import Any, Dict, Text


def install() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate did on every call
    validator = cls(schema)

    event_schema = schema["properties"]["events"]["items"]
    base = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_kind = {kind["properties"]["event"]["const"]: cls({"allOf": [base, kind]})
               for kind in event_schema["oneOf"]}
    rest = cls({key: value for key, value in schema.items() if key != "properties"}
               | {"properties": {k: v for k, v in schema["properties"].items() if k != "events"}})

    def valid_quickly(result: Any) -> bool:
        events = result.get("events", []) if isinstance(result, dict) else None
        if not isinstance(events, list) or not rest.is_valid(result):
            return False
        for event in events:
            kind = by_kind.get(event.get("event")) if isinstance(event, dict) else None
            if kind is None or not kind.is_valid(event):
                return False
        return True

    def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        if valid_quickly(result):
            return True
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = validate_action_result
