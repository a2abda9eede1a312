"""What the guide says about the thing a patient's own scan or report names, after the
caution that only a doctor can say what a result means (``ActionReplyCanned`` in
``actions/canned.py``, for ``ask_diagnosis``): pure functions of the guide, like ``actions/answering.py``."""

from __future__ import annotations

from typing import Dict, List

from guide.model import Guide
from actions.answering import concept_from, items_named
from actions.replies import Answer, item_answer, section_summary
from actions.retrieval import SEMANTIC_ANYWHERE, SEMANTIC_IN_SECTION, Hits, distinct_type, semantic_pick


def finding_answer(guide: Guide, entities: Dict[str, List[str]], hits: Hits = ()) -> Answer:
    """After the caution that only a doctor can say what a result means: what the guide
    says in general about the thing the patient's scan or report names, if it names one."""
    named = items_named(guide, entities)
    items = [i for i in named if i.section == "types"]
    if not items:  # "report: calcified granuloma right lung": the place's type before "radiology"
        concept = concept_from(guide, entities)
        if concept and concept.entity == "lesion_type":
            items = [guide.section("types").item(concept.value)]
        elif concept:
            items = guide.items_about("types", concept)[:2]
    items = items or named
    # "my scan says calcified lesion": closest to a section's own words, not to an item.
    general = bool(hits) and ":" not in hits[0][0]
    if not items and not general:
        picked = (distinct_type(guide, hits, min_score=SEMANTIC_IN_SECTION)
                  or semantic_pick(guide, hits, None, SEMANTIC_ANYWHERE))
        items = [picked] if picked else []
    if not items:
        # Nothing the guide has a part for: what calcified lesions are, in general.
        return section_summary(guide, "overview")
    answer = item_answer(guide, items[0], lead="In general, the guide says: ")
    for extra in items[1:2]:
        answer.replies += item_answer(guide, extra).replies
    return answer
