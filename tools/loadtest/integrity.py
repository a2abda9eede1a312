"""Did the tracker store keep what the assistant acknowledged? For every conversation of the
load test: each acknowledged message stored exactly once, and the turns sent one after
another stored in the order they were sent (a burst's messages in any order)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

import sqlalchemy as sa


def acknowledged(log: Path) -> Dict[str, List[dict]]:
    sent: Dict[str, List[dict]] = defaultdict(list)
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            sent[entry["sender"]].append(entry)
    return sent


def stored(database_url: str, prefix: str) -> Dict[str, List[str]]:
    """The user messages of every conversation whose id starts with ``prefix``, in store order.

    Rasa's two-stage fallback, when the patient's next message is understood, reverts it
    (a ``rewind`` event) and stores it again as the conversation's message: one message,
    two ``user`` events. That re-statement is Rasa's bookkeeping, not a duplicate: a ``user``
    event right after a ``rewind`` repeating the reverted text is counted once."""
    engine = sa.create_engine(database_url, future=True)
    texts: Dict[str, List[str]] = defaultdict(list)
    reverted: Dict[str, str] = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT sender_id, type_name, data FROM events WHERE type_name IN ('user', 'rewind') "
                "AND sender_id LIKE :p ORDER BY id"), {"p": prefix.replace("_", r"\_") + "%"})
            for sender, kind, data in rows:
                if kind == "rewind":
                    if texts[sender]:
                        reverted[sender] = texts[sender][-1]
                    continue
                text = json.loads(data).get("text") or ""
                if reverted.pop(sender, None) == text:
                    continue
                texts[sender].append(text)
    finally:
        engine.dispose()
    return texts


def check(sent: Dict[str, List[dict]], kept: Dict[str, List[str]]) -> Dict[str, int]:
    lost = duplicated = out_of_order = 0
    examples: List[dict] = []
    for sender, entries in sent.items():
        want, got = Counter(e["text"] for e in entries), Counter(kept.get(sender, []))
        lost += sum((want - got).values())
        duplicated += sum((got - want).values())
        if (want - got or got - want) and len(examples) < 5:
            examples.append({"conversation": sender, "missing": sorted(want - got), "extra": sorted(got - want)})
        ordered = [e["text"] for e in sorted((e for e in entries if e["seq"] is not None), key=lambda e: e["seq"])]
        position = 0
        for text in kept.get(sender, []):  # the ordered turns must appear as a subsequence
            if position < len(ordered) and text == ordered[position]:
                position += 1
        if position < len(ordered) and not (want - got):
            out_of_order += 1
    return {"conversations": len(sent), "messages": sum(len(v) for v in sent.values()),
            "lost_events": lost, "duplicated_events": duplicated, "out_of_order_conversations": out_of_order,
            "examples": examples}
