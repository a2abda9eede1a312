"""A plain semantic-search "bot" with no rules, scored like the assistant on the same messages.

The guide's passages (every item: title + text; every section: heading + intro) are
embedded once with the project's sentence encoder (``semantic.encoder``); each message
is answered with the passage of highest cosine similarity, as a REST-like message list:

- an item: the item's text;
- a section: its heading and intro, then every item title (so a section check can pass).

Conversation turns are answered one by one, with no memory. Without the encoder
(``semantic.encoder.EncoderMissing``) the baseline is "not available" and the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from guide.model import Guide
from tools.answer_eval.probes import ProbeSet
from tools.answer_eval.runner import ConversationResult, TurnResult, score_turn


@dataclass(frozen=True)
class Passage:
    ref: str  # "section:item" or "section"
    embed: str  # what is embedded
    reply: Tuple[Dict[str, Any], ...]  # what the baseline "bot" answers with


def guide_passages(guide: Guide) -> List[Passage]:
    passages: List[Passage] = []
    for section in guide.sections.values():
        intro = section.intro or section.summary
        text = "\n".join(t for t in (section.heading, intro) if t)
        reply: List[Dict[str, Any]] = [{"recipient_id": "baseline", "text": text}]
        if section.items:
            reply.append({"recipient_id": "baseline",
                          "text": "\n".join(f"- {i.title}" for i in section.items)})
        passages.append(Passage(section.key, text, tuple(reply)))
        for item in section.items:
            passages.append(Passage(item.ref, f"{item.title}: {item.text}",
                                    ({"recipient_id": "baseline", "text": item.text},)))
    return passages


class SemanticBaseline:
    """Answers a message with the guide passage nearest in meaning."""

    def __init__(self, guide: Guide, encoder: Any) -> None:
        self.encoder = encoder
        self.passages = guide_passages(guide)
        self.vectors = encoder.encode([p.embed for p in self.passages])

    def nearest(self, texts: Sequence[str]) -> List[Passage]:
        if not texts:
            return []
        scores = self.encoder.encode(list(texts)) @ self.vectors.T
        return [self.passages[int(i)] for i in scores.argmax(axis=1)]

    def answer(self, text: str) -> List[Dict[str, Any]]:
        return [dict(m) for m in self.nearest([text])[0].reply]

    def run(self, probe_set: ProbeSet, guide: Guide, responses: Dict[str, List[str]]
            ) -> Tuple[List[TurnResult], List[ConversationResult]]:
        """Every single probe and every conversation turn, each answered on its own."""
        entries = list(probe_set.probes) + [t for c in probe_set.conversations for t in c["turns"]]
        answers = self.nearest([e["text"] for e in entries])
        results = [score_turn(e, [dict(m) for m in a.reply], None, None, guide, responses)
                   for e, a in zip(entries, answers)]
        probe_results = results[:len(probe_set.probes)]
        rest = results[len(probe_set.probes):]
        conv_results = []
        for n, conv in enumerate(probe_set.conversations):
            turns, rest = rest[:len(conv["turns"])], rest[len(conv["turns"]):]
            conv_results.append(ConversationResult(conv.get("name", ""), f"baseline-{n}", turns))
        return probe_results, conv_results


def load_baseline(guide: Guide) -> Tuple[Optional[SemanticBaseline], Optional[str]]:
    """(baseline, None), or (None, why it is not available)."""
    try:
        from semantic.encoder import EncoderMissing, load
    except ImportError as exc:  # numpy/scipy missing: no encoder either
        return None, f"encoder cannot be imported: {exc}"
    try:
        return SemanticBaseline(guide, load()), None
    except EncoderMissing as exc:
        return None, str(exc)
