"""Reads and checks the guide and its lay-terms file into a :class:`~guide.model.Guide`.

The guide is plain text as the clinic publishes it (``knowledge/calcified-lesions.txt``):
headings, intro paragraphs and ``- Title: text`` bullet items. Which heading is which
section, the lay words patients use for each item, and the calls to action glued onto
headings by the web export all live in ``knowledge/lay_terms.yml``.

Nothing here runs at import time: callers load a ``Guide`` once with
:func:`load_guide` (the action server at start, the NLU components at train time),
with the paths of :func:`guide.paths.knowledge_files`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from guide.model import Concept, Guide, Item, Section
from guide.words import slugify

# A bullet in the guide: "- Title: text". Some bullets lack the space after the colon.
_BULLET = re.compile(r"^-\s*(?P<title>[^:]{1,80}):\s*(?P<text>.+)$")
_MAX_GUIDE_BYTES = 2_000_000


class KnowledgeFileError(Exception):
    """The guide or its lay-terms file is missing or cannot be understood."""


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
