"""Choosing a guide item from the semantic retriever's closest items (``guide_items``,
nlu_components/embeddings.py): pure functions over (item ref, cosine score) pairs."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from guide.model import Guide, Item
from guide.words import asks_for_whole_section

# Cosine scores of the semantic retriever (nlu_components/embeddings.py) above which
# its closest item is taken, measured on the dev split of tests/eval/blind/ (see
# config.yml): within the section the intent names, and with no section to go by.
SEMANTIC_IN_SECTION = 0.35
SEMANTIC_ANYWHERE = 0.55
# An item is not taken when the section's own heading or summary is closer than the
# item by more than this: the message asks for the section.
SECTION_MARGIN = 0.05
# A general question ("what is a calcification?") lands near every type, and near
# brain calcifications most of all; a message that names a kind or a place ("can
# tendons get it too?") lands near one type, well ahead of the next. Read off a dozen
# dev and fresh messages (tests/eval/blind/): a named kind or place leads the next type
# by 0.14-0.35, a general question by 0.00-0.09.
TYPE_LEAD = 0.12

Hits = Sequence[Tuple[str, float]]


def semantic_pick(guide: Guide, hits: Hits, section: Optional[str] = None,
                  min_score: float = SEMANTIC_IN_SECTION, text: str = "") -> Optional[Item]:
    """The retriever's closest item (of ``section``, if given) when it scores ``min_score``,
    unless the message asks for the whole section (its words, or the section's own
    passage about as close as the item)."""
    if text and asks_for_whole_section(text):
        return None
    scores = dict(hits)
    for ref, score in hits:
        if score < min_score:
            return None
        if ":" not in ref or (section is not None and ref.split(":", 1)[0] != section):
            continue
        if scores.get(ref.split(":", 1)[0], -1.0) > score + SECTION_MARGIN:
            return None
        return guide.item(ref)
    return None


def distinct_type(guide: Guide, hits: Hits, text: str = "",
                  min_score: float = SEMANTIC_ANYWHERE) -> Optional[Item]:
    """The type the message points to, when one stands out: above ``min_score``,
    closer than the overview's own passages and ``TYPE_LEAD`` ahead of the next type."""
    if text and asks_for_whole_section(text):
        return None
    scores = dict(hits)
    types = [(ref, score) for ref, score in hits if ref.startswith("types:")]
    if not types or types[0][1] < min_score:
        return None
    ref, score = types[0]
    # With no other type among the closest items, the next one is further than any listed.
    others = [s for r, s in hits if r != ref]
    runner_up = types[1][1] if len(types) > 1 else min(others, default=0.0)
    if score - runner_up < TYPE_LEAD or scores.get("overview", -1.0) >= score:
        return None
    return guide.item(ref)


# How far an item of another section, named in words, must lead the intent's own
# section in meaning to answer instead of it ("pills I take, should I mention them?"
# names medications as a treatment, yet is about the preparation step: 0.61 vs 0.60).
NAMED_LEAD = 0.05


def named_elsewhere(key: str, named: List[Item], hits: Hits) -> List[Item]:
    """Items of another section that the message names in words and that are also the
    closest in meaning ("how do I keep the wound clean?" classified as a treatment
    question): words and meaning agree against the intent. Types are left to
    actions/answering.py, which relates them to the section asked about."""
    if key == "specialists":  # "who would operate?": the named treatment says which specialist
        return []
    if any(i.section == key for i in named):
        return []
    named = [i for i in named if i.section != "types"]
    if not named:
        return []
    items = [(ref, score) for ref, score in hits if ":" in ref]
    if not items:
        return []
    top, score = items[0]
    own_best = max((s for ref, s in items if ref.startswith(key + ":")), default=0.0)
    if score - own_best < NAMED_LEAD:  # the intent's own section is about as close
        return []
    return [i for i in named if i.ref == top]
