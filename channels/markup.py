"""The bot's simple markdown (**bold**, [label](https://...), bare links) for Telegram and Slack.

Each channel has its own markup language with its own escaping rules; converting
token by token keeps any text a patient or the guide contains from being read as
markup (Telegram rejects a message with unbalanced HTML, Slack would turn ``<!here>``
into a notification).
"""

from __future__ import annotations

import html
import re
from typing import Iterator, List, Tuple

_TOKEN = re.compile(
    r"\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<href>https?://[^\s)]+)\)",
    re.IGNORECASE,
)


def tokens(text: str) -> Iterator[Tuple[str, str, str]]:
    """(kind, text, href) with kind 'text', 'bold' or 'link'."""
    last = 0
    for match in _TOKEN.finditer(text):
        if match.start() > last:
            yield "text", text[last:match.start()], ""
        if match.group("bold") is not None:
            yield "bold", match.group("bold"), ""
        else:
            yield "link", match.group("label"), match.group("href")
        last = match.end()
    if last < len(text):
        yield "text", text[last:], ""


def telegram_html(text: str) -> str:
    """Text for Telegram's ``parse_mode=HTML``: everything escaped but our own tags."""
    out = []
    for kind, value, href in tokens(text):
        if kind == "bold":
            out.append(f"<b>{html.escape(value, quote=False)}</b>")
        elif kind == "link":
            out.append(f'<a href="{html.escape(href, quote=True)}">{html.escape(value, quote=False)}</a>')
        else:
            out.append(html.escape(value, quote=False))
    return "".join(out)


def _slack_escape(value: str) -> str:
    # Slack's own three escapes; nothing else is special in mrkdwn text.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mrkdwn(text: str) -> str:
    out = []
    for kind, value, href in tokens(text):
        if kind == "bold":
            out.append(f"*{_slack_escape(value)}*")
        elif kind == "link":
            label = _slack_escape(value.replace("|", "/"))
            out.append(f"<{_slack_escape(href).replace('|', '%7C')}|{label}>")
        else:
            out.append(_slack_escape(value))
    return "".join(out)


def plain(text: str) -> str:
    """Text without markup, e.g. for Slack's notification fallback or button titles."""
    return "".join(f"{value} ({href})" if kind == "link" else value for kind, value, href in tokens(text))


def chunks(text: str, limit: int) -> List[str]:
    """Split text into pieces of at most ``limit`` characters, at paragraph, line or word ends."""
    text = text.strip()
    pieces: List[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces
