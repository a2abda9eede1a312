"""Which channels are on, the credentials file the launcher writes, and Rasa loading it."""

from __future__ import annotations

import pytest

from channels import markup
from channels.settings import channel_summary, credentials, problems
from channels.rest import RestInput
from channels.slack import SlackInput
from channels.socketio import SocketIOInput
from channels.telegram import TelegramInput
from tools.launch import Stack, write_credentials

TELEGRAM_ENV = {"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
                "TELEGRAM_SECRET_TOKEN": "Secret_token-1"}
SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "abc123"}


def test_only_rest_and_the_widget_without_variables():
    assert credentials({}) == {"channels.rest.RestInput": None, "channels.socketio.SocketIOInput": {
        "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}}
    assert channel_summary({}) == [("telegram", False, "/webhooks/telegram/webhook"),
                                   ("slack", False, "/webhooks/slack/webhook")]
    assert problems({}) == []


def test_channels_are_on_when_all_their_variables_are_set_and_secrets_stay_references():
    env = {**TELEGRAM_ENV, **SLACK_ENV, "SLACK_API_URL": "http://127.0.0.1:9/api"}
    creds = credentials(env)
    assert creds["channels.telegram.TelegramInput"] == {
        "access_token": "${TELEGRAM_TOKEN}", "webhook_url": "${TELEGRAM_WEBHOOK_URL}",
        "secret_token": "${TELEGRAM_SECRET_TOKEN}"}
    assert creds["channels.slack.SlackInput"] == {
        "slack_token": "${SLACK_BOT_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}",
        "api_url": "${SLACK_API_URL}"}
    assert [on for _, on, _ in channel_summary(env)] == [True, True]


@pytest.mark.parametrize("env, message", [
    ({"TELEGRAM_TOKEN": "123:abc"}, "Telegram is half configured: set TELEGRAM_WEBHOOK_URL, TELEGRAM_SECRET_TOKEN"),
    ({"SLACK_SIGNING_SECRET": "x", "SLACK_BOT_TOKEN": "  "}, "Slack is half configured: set SLACK_BOT_TOKEN"),
    ({**TELEGRAM_ENV, "TELEGRAM_SECRET_TOKEN": "has spaces!"}, "TELEGRAM_SECRET_TOKEN must be 1-256 characters"),
])
def test_half_configured_channels_stop_the_start(env, message):
    assert any(p.startswith(message) for p in problems(env)), problems(env)
    stack = Stack("model.tar.gz", env=env)
    with pytest.raises(RuntimeError, match=message.split(":")[0]):
        stack.start()
    assert stack.procs == []


def test_rasa_builds_our_channels_from_the_written_file(tmp_path, monkeypatch):
    from rasa.core.run import create_http_input_channels

    env = {**TELEGRAM_ENV, **SLACK_ENV}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "credentials.yml"
    write_credentials(env, path)
    assert "123:abc" not in path.read_text() and "${TELEGRAM_TOKEN}" in path.read_text()
    channels = {type(c): c for c in create_http_input_channels(None, str(path))}
    assert set(channels) == {RestInput, SocketIOInput, TelegramInput, SlackInput}
    assert channels[TelegramInput].secret_token == "Secret_token-1"
    assert channels[TelegramInput].api.base_url == "https://api.telegram.org/bot123:abc"
    assert channels[SlackInput].signing_secret == "abc123"
    assert channels[SocketIOInput].session_persistence is True


def test_the_banner_lists_channels_and_webhook_paths():
    on = Stack("model.tar.gz", rasa_port=5111, env=TELEGRAM_ENV).describe_channels()
    assert on == ["  Telegram:       on, webhook POST http://127.0.0.1:5111/webhooks/telegram/webhook",
                  "  Slack:          off (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)"]


@pytest.mark.parametrize("text, telegram, slack", [
    ("plain", "plain", "plain"),
    ("**bold** & <b>x</b>", "<b>bold</b> &amp; &lt;b&gt;x&lt;/b&gt;", "*bold* &amp; &lt;b&gt;x&lt;/b&gt;"),
    ("see [the guide](https://x.org/?a=1&b=\"2\")", 'see <a href="https://x.org/?a=1&amp;b=&quot;2&quot;">the guide</a>',
     'see <https://x.org/?a=1&amp;b="2"|the guide>'),
    ("[js](javascript:alert(1))", "[js](javascript:alert(1))", "[js](javascript:alert(1))"),
    ("<!channel> **unclosed", "&lt;!channel&gt; **unclosed", "&lt;!channel&gt; **unclosed"),
    ("[a|b](https://x.org/p|q)", '<a href="https://x.org/p|q">a|b</a>', "<https://x.org/p%7Cq|a/b>"),
])
def test_markup_conversion(text, telegram, slack):
    assert markup.telegram_html(text) == telegram
    assert markup.slack_mrkdwn(text) == slack


def test_chunks_split_at_word_ends_and_keep_everything():
    text = "word " * 1000
    pieces = markup.chunks(text, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert " ".join(pieces) == text.strip()
    assert markup.chunks("x" * 700, 300) == ["x" * 300, "x" * 300, "x" * 100]
    assert markup.chunks("   ", 10) == []
