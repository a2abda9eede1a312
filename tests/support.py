"""Small helpers shared by the tests."""

import os
import socket
from pathlib import Path

import pytest


def trained_model(needs: str = "needs a trained model") -> str:
    """The model ``make test`` passes as ASSISTANT_MODEL; the test is skipped without one."""
    model = os.environ.get("ASSISTANT_MODEL")
    if not model or not Path(model).exists():
        pytest.skip(f"{needs}: run it with `make test`")
    return model


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
