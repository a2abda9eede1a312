"""The layout README's architecture map describes: packages depend on each other in one
direction, and no product module grows past what a newcomer can read in one sitting."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"actions", "channels", "clinic", "guide", "nlu_components", "rasa_ext", "semantic", "storage", "webapp",
        "tools"}
# What each package may import of ours and of the heavy frameworks (README, "Architecture").
ALLOWED = {
    "clinic": set(),
    "storage": {"clinic"},
    "guide": {"clinic"},
    "semantic": set(),  # numpy, ONNX Runtime and (at install) onnx only
    "nlu_components": {"guide", "semantic", "clinic", "rasa", "spacy"},
    "actions": {"guide", "storage", "clinic", "rasa_sdk"},
    "channels": {"storage", "clinic", "rasa"},
    "rasa_ext": {"channels", "storage", "clinic", "rasa"},
    "webapp": {"storage", "clinic", "rasa"},  # rasa: only the training-data writer, lazily
}
WATCHED = OURS | {"rasa", "rasa_sdk", "spacy", "tensorflow", "torch"}
MAX_LINES = 400


def product_files():
    for package in sorted(ALLOWED) + ["tools"]:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported_packages(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        found = {p for p in imported_packages(path) if p in WATCHED and p != package} - ALLOWED[package]
        if found:
            wrong[str(path.relative_to(ROOT))] = sorted(found)
    assert wrong == {}


def test_the_graph_has_no_cycle():
    def reaches(start, goal, seen=()):
        return any(dep == goal or (dep in ALLOWED and dep not in seen and reaches(dep, goal, seen + (dep,)))
                   for dep in ALLOWED[start])
    assert [p for p in ALLOWED if reaches(p, p)] == []


def test_no_product_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in product_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
