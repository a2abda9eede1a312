"""The red-flag phrase file (``knowledge/red_flags.yml``): symptoms that need emergency advice.

Read by the NLU's ``RedFlagMatcher`` when it is trained (its phrases) and by the
action server at start (each flag's label, named in the emergency advice).

Besides plain phrases, the file names **word classes** (``words:``) and a phrase may
use one as ``<name>``: "<cannot> ... <breathe>" stands for every phrase made by putting
one word of each class in its place ("can't breathe", "struggling to get my breath",
"hardly ... breathing"...). A patient's wording varies in several places at once, and a
list of whole phrases only ever caught the combinations someone had written down (on the
blind red-flag set, tests/eval/blind/redflags.yml, the list tuned on one half caught no
more of the other half than before: make eval-redflags).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

import yaml

CLASS = re.compile(r"<([a-z_]+)>")


class RedFlagFileError(Exception):
    """The red-flag phrase file is missing or malformed."""


def read_flags(path: Path) -> Dict[str, Dict[str, Any]]:
    """{flag id: {"label": str, "written": [phrase as written, ...], "phrases": [every
    phrase, word classes expanded, ...]}} from the YAML file, checked."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RedFlagFileError(f"cannot read red-flag file {path}: {exc}") from exc
    flags = (data or {}).get("flags") if isinstance(data, dict) else None
    if not isinstance(flags, dict) or not flags:
        raise RedFlagFileError(f"red-flag file {path} has no 'flags' mapping")
    words = _word_classes(data.get("words") or {}, path)
    result: Dict[str, Dict[str, Any]] = {}
    for flag, spec in flags.items():
        if not isinstance(spec, dict) or not spec.get("phrases") or not spec.get("label"):
            raise RedFlagFileError(f"red flag '{flag}' in {path} needs a label and phrases")
        written = [str(p) for p in spec["phrases"]]
        for phrase in written:
            unknown = [name for name in CLASS.findall(phrase) if name not in words]
            if unknown:
                raise RedFlagFileError(f"red flag '{flag}' in {path}: phrase '{phrase}' uses "
                                       f"unknown word class <{unknown[0]}>")
        expanded = list(dict.fromkeys(p for phrase in written for p in expand(phrase, words)))
        result[flag] = {**spec, "written": written, "phrases": expanded}
    return result


def expand(phrase: str, words: Mapping[str, Sequence[str]]) -> List[str]:
    """Every phrase ``phrase`` stands for, its word classes filled in, in order."""
    names = CLASS.findall(phrase)
    if not names:
        return [phrase]
    pieces = CLASS.split(phrase)  # text, name, text, name, ..., text
    out = []
    for choice in itertools.product(*(words[name] for name in names)):
        text = "".join(piece if i % 2 == 0 else choice[i // 2] for i, piece in enumerate(pieces))
        out.append(" ".join(text.split()))
    return out


def samples(phrase: str, words: Mapping[str, Sequence[str]]) -> List[str]:
    """A few phrases ``phrase`` stands for, such that every word of each of its classes
    appears in one: what a test needs to try each word without trying every product."""
    names = CLASS.findall(phrase)
    if not names:
        return [phrase]
    pieces = CLASS.split(phrase)
    longest = max(len(words[name]) for name in names)
    out = []
    for k in range(longest):
        text = "".join(piece if i % 2 == 0 else words[pieces[i]][k % len(words[pieces[i]])]
                       for i, piece in enumerate(pieces))
        out.append(" ".join(text.split()))
    return list(dict.fromkeys(out))


def _word_classes(raw: Any, path: Path) -> Dict[str, List[str]]:
    if not isinstance(raw, dict):
        raise RedFlagFileError(f"red-flag file {path}: 'words' must map class names to word lists")
    classes = {}
    for name, members in raw.items():
        if not re.fullmatch(r"[a-z_]+", str(name)) or not isinstance(members, list) or not members \
                or not all(isinstance(m, str) and m.strip() and "..." not in m and "<" not in m
                           for m in members):
            raise RedFlagFileError(f"red-flag file {path}: word class '{name}' needs a list of "
                                   "words or short phrases (no '...', no classes)")
        classes[str(name)] = [" ".join(m.split()) for m in members]
    return classes
