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
    """Stands in for Rasa's agent: records each UserMessage and answers through its output channel.

    With ``keep=True`` it also keeps the conversation in Rasa's own InMemoryTrackerStore, as
    ``app.ctx.agent.tracker_store`` (what the reaction ratings read the answers from)."""

    def __init__(self, replies: Optional[Callable[[Any], List[Dict[str, Any]]]] = None, keep: bool = False) -> None:
        self.messages: List[Any] = []
        self.replies = replies or (lambda message: [{"text": f"You said: {message.text}"}])
        self.tracker_store = None
        if keep:
            from rasa.core.tracker_store import InMemoryTrackerStore
            from rasa.shared.core.domain import Domain

            self.tracker_store = InMemoryTrackerStore(Domain.empty())

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        replies = [dict(reply) for reply in self.replies(message)]
        if self.tracker_store is not None:
            from rasa.shared.core.events import BotUttered, UserUttered

            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text))
            for reply in replies:
                tracker.update(BotUttered(reply.get("text"), {k: v for k, v in reply.items() if k != "text"}))
            await self.tracker_store.save(tracker)
        for reply in replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.messages]


class ChannelApp:
    """A Sanic app with one connector mounted at ``/webhooks/<name>``; requests go through ASGI."""

    def __init__(self, channel: Any, bot: RecordingBot) -> None:
        self.channel, self.bot = channel, bot
        self.app = Sanic(f"channel_test_{next(_apps)}")
        if getattr(bot, "tracker_store", None) is not None:  # as Rasa's app holds its agent
            from types import SimpleNamespace

            self.app.ctx.agent = SimpleNamespace(tracker_store=bot.tracker_store)
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
