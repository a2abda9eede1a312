"""The guide as the assistant uses it: sections of items, the lay concepts that name
them, and the look-ups answers are built from (``search_items``: a small word-overlap
index over the guide's own text).

Built by :func:`guide.parsing.load_guide`; nothing here reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from guide.words import mentions, sentences, stems

# The domain's question intents and the guide section each one asks about; the first
# intent of a section asks for the whole section.
QUESTION_INTENTS = {
    "ask_definition": "overview",
    "ask_causes": "overview",
    "ask_detection": "overview",
    "ask_types": "types",
    "ask_preparation": "preparation",
    "ask_treatment": "treatment",
    "ask_specialist": "specialists",
    "ask_recovery": "recovery",
}


@dataclass(frozen=True)
class Item:
    section: str
    key: str
    title: str
    text: str

    @property
    def ref(self) -> str:
        return f"{self.section}:{self.key}"


@dataclass
class Section:
    key: str
    heading: str
    entity: Optional[str]
    intro: str = ""
    items: List[Item] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    promo: List[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The first sentence of the intro: the short answer for the section."""
        parts = sentences(self.intro)
        return parts[0] if parts else ""

    def item(self, key: str) -> Optional[Item]:
        return next((i for i in self.items if i.key == key), None)

    def full_text(self) -> str:
        lines = [self.intro] if self.intro else []
        lines += [f"• {i.title}: {i.text}" for i in self.items]
        lines += self.notes
        return "\n".join(lines)


@dataclass(frozen=True)
class Concept:
    """A lay concept (an entity value) with the phrases that name it."""

    entity: str
    value: str
    phrases: Tuple[str, ...]
    guide_terms: Tuple[str, ...]


@dataclass
class Guide:
    path: Path
    sections: Dict[str, Section]
    concepts: List[Concept]
    aspects: Dict[str, Tuple[str, ...]]
    calls_to_action: Tuple[str, ...]

    def section(self, key: str) -> Section:
        return self.sections[key]

    def section_for_entity(self, entity: str) -> Optional[Section]:
        return next((s for s in self.sections.values() if s.entity == entity), None)

    def item(self, ref: str) -> Optional[Item]:
        section, _, key = ref.partition(":")
        if section not in self.sections:
            return None
        return self.sections[section].item(key)

    def concept(self, entity: str, value: str) -> Optional[Concept]:
        return next(
            (c for c in self.concepts if c.entity == entity and c.value == value), None
        )

    def items_about(self, section: str, concept: "Concept") -> List[Item]:
        """Items of ``section`` that mention the concept: its guide terms or its own value
        ("soft_tissue" read as "soft tissue")."""
        return self.related_items(section, concept.guide_terms + (concept.value,))

    def related_items(self, section: str, terms: Iterable[str]) -> List[Item]:
        """Items of ``section`` whose text or title mentions any of ``terms``."""
        terms = [t for t in terms if t]
        return [
            item
            for item in self.sections[section].items
            if any(mentions(f"{item.title} {item.text}", t) for t in terms)
        ]

    def closest_item(self, section: str, ref: str, min_score: float) -> Optional[Item]:
        """The item of ``section`` whose words are closest to item ``ref``'s (TF-IDF cosine),
        if at least ``min_score`` ("Diagnostic Assessment" -> "Prepare for Diagnostic Tests")."""
        bags = self._item_stems
        source = bags.get(ref)
        if not source or section not in self.sections:
            return None

        def cosine(other: Dict[str, float]) -> float:
            dot = sum(weight * other.get(stem, 0.0) for stem, weight in source.items())
            norm = math.sqrt(sum(v * v for v in source.values()) * sum(v * v for v in other.values()))
            return dot / norm if norm else 0.0

        scored = [(cosine(bags[i.ref]), i) for i in self.sections[section].items if i.ref != ref]
        best = max(scored, key=lambda pair: pair[0], default=None)
        return best[1] if best and best[0] >= min_score else None

    @cached_property
    def _item_stems(self) -> Dict[str, Dict[str, float]]:
        """Per item: its stems, title stems counting twice; and every stem's IDF."""
        items = [i for s in self.sections.values() for i in s.items]
        bags = {i.ref: stems(f"{i.title} {i.title} {i.text}") for i in items}
        df: Dict[str, int] = {}
        for bag in bags.values():
            for stem in set(bag):
                df[stem] = df.get(stem, 0) + 1
        idf = {stem: math.log((1 + len(items)) / (1 + n)) + 1 for stem, n in df.items()}
        return {ref: {st: bag.count(st) * idf[st] for st in set(bag)} for ref, bag in bags.items()}

    def _section_words(self, section: str) -> set:
        """Words that ask for the section as a whole, not one item: those of its heading
        and intro ("recovery", "treatment"), and those in three or more of its items
        ("appointment" in the preparation steps)."""
        part = self.sections[section]
        words = set(stems(f"{part.heading} {part.intro}"))
        counts: Dict[str, int] = {}
        for item in part.items:
            for stem in set(stems(f"{item.title} {item.text}")):
                counts[stem] = counts.get(stem, 0) + 1
        return words | {stem for stem, n in counts.items() if n >= 3}

    def search_items(self, section: str, text: str, min_score: float = 4.0,
                     margin: float = 1.5) -> Optional[Item]:
        """The item of ``section`` whose own words best match ``text``, when one clearly does.

        A plain word-overlap score (IDF-weighted, title words counting twice) over
        the guide's own text: what lets "what documents should I bring?" find
        "Prepare Relevant Documents" without any listed lay phrase.
        """
        query = set(stems(text)) - self._section_words(section)
        scored = sorted(
            ((sum(self._item_stems[i.ref].get(st, 0.0) for st in query), i)
             for i in self.sections[section].items),
            key=lambda pair: -pair[0],
        )
        if not scored or scored[0][0] < min_score:
            return None
        if len(scored) > 1 and scored[0][0] < margin * scored[1][0]:
            return None
        return scored[0][1]

    def aspect_sentences(self, aspect: str, section: str = "overview") -> List[str]:
        keywords = self.aspects.get(aspect, ())
        return [
            s
            for s in sentences(self.sections[section].intro)
            if any(mentions(s, k) for k in keywords)
        ]

    def entity_phrases(self) -> List[Tuple[str, str, str]]:
        """(entity, canonical value, phrase) for every way a patient can name a thing.

        Item titles come from the guide itself, so a renamed item is recognised
        under its new title after retraining; lay phrases come from the lay-terms file.
        """
        out: List[Tuple[str, str, str]] = []
        for concept in self.concepts:
            for phrase in concept.phrases:
                out.append((concept.entity, concept.value, phrase))
        return out
