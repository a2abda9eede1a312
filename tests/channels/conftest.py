"""Fixtures of the channel tests: fake Telegram and Slack APIs on loopback, a recording bot,
and a Sanic app that mounts one connector the way Rasa does."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from sanic import Sanic

from tests.channels.fakes import FakeSlack, FakeTelegram

_apps = itertools.count()


class RecordingBot:
    """Stands in for Rasa's agent: records each UserMessage and answers through its output channel."""

    def __init__(self, replies: Optional[Callable[[Any], List[Dict[str, Any]]]] = None) -> None:
        self.messages: List[Any] = []
        self.replies = replies or (lambda message: [{"text": f"You said: {message.text}"}])

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        for reply in self.replies(message):
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.messages]


class ChannelApp:
    """A Sanic app with one connector mounted at ``/webhooks/<name>``; requests go through ASGI."""

    def __init__(self, channel: Any, bot: RecordingBot) -> None:
        self.channel, self.bot = channel, bot
        self.app = Sanic(f"channel_test_{next(_apps)}")
        self.app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")

    def post(self, path: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
        async def run() -> Tuple[int, str]:
            _, response = await self.app.asgi_client.post(path, content=body, headers=headers)
            return response.status, response.text

        return asyncio.run(run())

    def get(self, path: str) -> Tuple[int, str]:
        async def run() -> Tuple[int, str]:
            _, response = await self.app.asgi_client.get(path)
            return response.status, response.text

        return asyncio.run(run())


@pytest.fixture
def fake_telegram():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def fake_slack():
    server = FakeSlack().start()
    yield server
    server.stop()
