"""Checking the action server's answer once per call, not the check itself too.

Rasa 3.6 checks every answer of the action server against its response schema with
``jsonschema.validate(result, schema)``, which first checks the *schema* against the
JSON Schema meta-schema and builds a new validator, on every call: 19.5 ms per action
call here, about half of a message's time inside Rasa (tools/loadtest/profile.py;
``make bench`` reports the breakdown). The same check with a validator built once takes
well under a millisecond and raises the same ``ValidationError`` with the same
explanation.
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

    def validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
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
