"""The clinic's patient guide, parsed into sections and items.

The guide is plain text as the clinic publishes it (``knowledge/calcified-lesions.txt``):
headings, intro paragraphs and ``- Title: text`` bullet items. Which heading is which
section, the lay words patients use for each item, and the calls to action glued onto
headings by the web export all live in ``knowledge/lay_terms.yml``.

Nothing here runs at import time: callers load a :class:`Guide` once with
:func:`load_guide` (the action server at start, the NLU components at train time).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

# A bullet in the guide: "- Title: text". Some bullets lack the space after the colon.
_BULLET = re.compile(r"^-\s*(?P<title>[^:]{1,80}):\s*(?P<text>.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_MAX_GUIDE_BYTES = 2_000_000


class KnowledgeFileError(Exception):
    """The guide or its lay-terms file is missing or cannot be understood."""


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def sentences(text: str) -> List[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


_WORD = re.compile(r"[a-z]+")
_SUFFIXES = ("ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "al")
# Words that carry no topic: English function words plus the guide's own subject.
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its
    itself just me more most my no nor not now of off on once only or other our out over
    own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself get got need want know tell please
    thing things kind one ones lot much really something anything someone people person
    calcified calcification calcifications lesion lesions calcium deposit deposits
    guide clinic doctor doctors like just ever even still also okay yes hello thanks
    thank way say said let""".split()
)


def stems(text: str) -> List[str]:
    """Crude stems of the content words of a text ("medications" -> "medic")."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 3:
            continue
        for _ in range(2):  # "surgically" -> "surgical" -> "surgic" = "surgical"
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                    word = word[: -len(suffix)]
                    break
        out.append(word)
    return out


def mentions(text: str, term: str) -> bool:
    """Whole-word, case-insensitive match that also accepts a plural or -al/-ic ending."""
    stem = re.escape(term.lower().rstrip("s"))
    return re.search(rf"\b{stem}(s|es)?\b", text.lower()) is not None


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

    def related_items(self, section: str, terms: Iterable[str]) -> List[Item]:
        """Items of ``section`` whose text or title mentions any of ``terms``."""
        terms = [t for t in terms if t]
        return [
            item
            for item in self.sections[section].items
            if any(mentions(f"{item.title} {item.text}", t) for t in terms)
        ]

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


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise KnowledgeFileError(f"knowledge file not found: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise KnowledgeFileError(f"knowledge file is empty: {path}")
    if len(raw) > _MAX_GUIDE_BYTES:
        raise KnowledgeFileError(f"knowledge file is larger than 2 MB: {path}")
    if b"\x00" in raw:
        raise KnowledgeFileError(f"knowledge file is binary, not text: {path}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeFileError(
            f"knowledge file is not UTF-8 text: {path} (byte {exc.start})"
        ) from exc


def _read_terms(path: Path) -> dict:
    text = _read_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeFileError(f"lay-terms file is not valid YAML: {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sections"), dict):
        raise KnowledgeFileError(f"lay-terms file has no 'sections' mapping: {path}")
    return data


def parse_guide(text: str, terms: dict, path: Path = Path("<text>")) -> Guide:
    section_specs = terms["sections"]
    ctas = tuple(terms.get("calls_to_action") or ())
    patterns = []
    for key, spec in section_specs.items():
        try:
            patterns.append((key, re.compile(spec["heading"], re.IGNORECASE), spec))
        except (KeyError, TypeError, re.error) as exc:
            raise KnowledgeFileError(
                f"lay-terms file: section '{key}' needs a valid 'heading' pattern ({exc})"
            ) from exc

    sections: Dict[str, Section] = {}
    current: Optional[Section] = None
    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        # The web export glues a call-to-action button label onto the next heading
        # ("Get A Second OpinionPreparing for ..."): strip the label first.
        for cta in ctas:
            if line.startswith(cta) and line != cta:
                line = line[len(cta) :].strip()
                break
        if line in ctas:
            continue
        heading = next((p for p in patterns if p[1].search(line)), None)
        if heading and not line.startswith("-"):
            key, _, spec = heading
            if key in sections:
                raise KnowledgeFileError(
                    f"{path}:{lineno}: heading for section '{key}' appears twice: {line!r}"
                )
            current = Section(key=key, heading=line.rstrip(), entity=spec.get("entity"))
            sections[key] = current
            continue
        if current is None:
            raise KnowledgeFileError(
                f"{path}:{lineno}: text before the first known heading: {line[:60]!r}"
            )
        if line.startswith("-"):
            match = _BULLET.match(line)
            if match:
                title = match["title"].strip()
                key = slugify(title)
                if current.item(key):
                    raise KnowledgeFileError(
                        f"{path}:{lineno}: item {title!r} appears twice in '{current.key}'"
                    )
                current.items.append(
                    Item(current.key, key, title, match["text"].strip())
                )
            else:
                current.notes.append(line.lstrip("- ").strip())
        elif current.items:
            current.promo.append(line)
        else:
            current.intro = f"{current.intro} {line}".strip()

    for key, spec in section_specs.items():
        if key not in sections:
            raise KnowledgeFileError(
                f"{path}: no heading matches section '{key}' "
                f"(pattern {spec['heading']!r} in the lay-terms file)"
            )
        if spec.get("entity") and not sections[key].items:
            raise KnowledgeFileError(f"{path}: section '{key}' has no '- Title: text' items")
        if not sections[key].intro and not sections[key].items:
            raise KnowledgeFileError(f"{path}: section '{key}' is empty")

    ordered = {k: sections[k] for k in section_specs}
    concepts = _concepts(ordered, terms, path)
    aspects = {
        name: tuple(words) for name, words in (terms.get("aspects") or {}).items()
    }
    return Guide(path, ordered, concepts, aspects, ctas)


def _concepts(sections: Dict[str, Section], terms: dict, path: Path) -> List[Concept]:
    generic = [w.lower() for w in terms.get("generic_words") or ()]
    lay: dict = terms.get("entities") or {}
    concepts: List[Concept] = []
    seen = set()

    def spec_of(entity: str, value: str) -> dict:
        spec = (lay.get(entity) or {}).get(value) or {}
        return spec if isinstance(spec, dict) else {"phrases": spec}

    # Entities backed by guide items: every item is a value, named by its title.
    for section in sections.values():
        if not section.entity:
            continue
        for item in section.items:
            spec = spec_of(section.entity, item.key)
            phrases = [item.title]
            short = " ".join(w for w in item.title.split() if w.lower() not in generic)
            if short and short != item.title:
                phrases.append(short)
            phrases += list(spec.get("phrases") or ())
            concepts.append(
                Concept(section.entity, item.key, _unique(phrases),
                        tuple(spec.get("guide_terms") or ()))
            )
            seen.add((section.entity, item.key))

    item_entities = {s.entity for s in sections.values() if s.entity}
    for entity, values in lay.items():
        for value in values or {}:
            if (entity, value) in seen:
                continue
            if entity in item_entities:
                raise KnowledgeFileError(
                    f"lay-terms file: {entity} '{value}' is not an item of the guide "
                    f"(items are named after their titles; was one renamed?)"
                )
            spec = spec_of(entity, value)
            phrases = list(spec.get("phrases") or ())
            if not phrases:
                raise KnowledgeFileError(
                    f"lay-terms file: {entity} '{value}' has no phrases"
                )
            concepts.append(
                Concept(entity, value, _unique(phrases), tuple(spec.get("guide_terms") or ()))
            )
    return concepts


def _unique(phrases: Iterable[str]) -> Tuple[str, ...]:
    out: List[str] = []
    for p in phrases:
        p = " ".join(str(p).split())
        if p and p.lower() not in (o.lower() for o in out):
            out.append(p)
    return tuple(out)


def load_guide(guide_path: Path, terms_path: Path) -> Guide:
    """Read and check the guide and its lay-terms file; raise KnowledgeFileError if unusable."""
    guide_path, terms_path = Path(guide_path), Path(terms_path)
    return parse_guide(_read_text(guide_path), _read_terms(terms_path), guide_path)
