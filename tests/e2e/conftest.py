"""The whole assistant (actions, Rasa, web app) on free loopback ports, for end-to-end tests.

`make test` passes the trained model as ASSISTANT_MODEL; the stack uses its own
SQLite database in a temporary folder.
"""

import pytest

from tools.launch import Stack
from tests.support import free_port, trained_model


@pytest.fixture(scope="session")
def model_path() -> str:
    return trained_model("end-to-end tests need a trained model")


@pytest.fixture(scope="session")
def stack(model_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stack")
    running = Stack(
        model_path,
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
        # Staff always on duty: the hand-off's reply does not depend on the hour the suite runs
        # (out of hours it words the reference differently; tests/actions covers both).
        env={"DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}", "EMERGENCY_NUMBER": "112",
             "STAFF_HOURS": "always"},
        log_dir=folder / "logs",
    ).start()
    yield running
    running.stop()
