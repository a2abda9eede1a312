"""One place decides which knowledge files are read (guide/paths.py), and the action
server, the NLU components and the answer evaluation all read the same ones."""

import subprocess
import sys

from guide.paths import content_fingerprint, knowledge_files
from tests.conftest import GUIDE, LAY_TERMS, RED_FLAGS, ROOT


def test_defaults_are_the_shipped_files():
    assert tuple(knowledge_files({})) == (GUIDE, LAY_TERMS, RED_FLAGS)


def test_the_environment_names_other_files_relative_to_the_project_root(tmp_path):
    files = knowledge_files({"GUIDE_FILE": "elsewhere/guide.txt", "RED_FLAGS_FILE": str(tmp_path / "f.yml")})
    assert files.guide == ROOT / "elsewhere" / "guide.txt"
    assert files.lay_terms == LAY_TERMS
    assert files.red_flags == tmp_path / "f.yml"


def test_os_environ_is_read_when_no_mapping_is_given(monkeypatch, tmp_path):
    monkeypatch.setenv("LAY_TERMS_FILE", str(tmp_path / "terms.yml"))
    assert knowledge_files().lay_terms == tmp_path / "terms.yml"


def test_the_makefile_command_prints_the_three_paths_without_the_virtualenv(tmp_path):
    # -S: no site-packages, as with the system's python3 before `make install`
    env = {"PATH": "/usr/bin:/bin", "GUIDE_FILE": str(tmp_path / "guide.txt")}
    result = subprocess.run([sys.executable, "-S", "-m", "guide.paths"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "guide.txt"), str(LAY_TERMS), str(RED_FLAGS)]


def test_the_fingerprint_follows_the_contents_not_the_place(tmp_path):
    copy = tmp_path / "guide.txt"
    copy.write_bytes(GUIDE.read_bytes())
    assert content_fingerprint(copy) == content_fingerprint(GUIDE)
    copy.write_text("changed")
    assert content_fingerprint(copy) != content_fingerprint(GUIDE)
    assert content_fingerprint(tmp_path / "missing") != content_fingerprint(copy)


def test_the_action_server_reads_the_same_files(tmp_path):
    from actions.settings import Settings

    env = {"GUIDE_FILE": str(tmp_path / "g.txt"), "LAY_TERMS_FILE": "t.yml", "RED_FLAGS_FILE": "f.yml"}
    settings = Settings.from_env(env)
    assert (settings.guide_file, settings.lay_terms_file, settings.red_flags_file) == tuple(knowledge_files(env))


def test_the_nlu_components_fingerprint_the_same_files(monkeypatch, tmp_path):
    from nlu_components.guide_entities import GuideEntityExtractor, GuideEntityFeaturizer
    from nlu_components.red_flags import RedFlagMatcher

    before = [c.fingerprint_addon({}) for c in (GuideEntityExtractor, GuideEntityFeaturizer, RedFlagMatcher)]
    edited = tmp_path / "guide.txt"
    edited.write_text(GUIDE.read_text().replace("Wound Care", "Caring for the Wound"))
    flags = tmp_path / "flags.yml"
    flags.write_text(RED_FLAGS.read_text() + "\n# edited\n")
    monkeypatch.setenv("GUIDE_FILE", str(edited))
    monkeypatch.setenv("RED_FLAGS_FILE", str(flags))
    after = [c.fingerprint_addon({}) for c in (GuideEntityExtractor, GuideEntityFeaturizer, RedFlagMatcher)]
    assert all(b != a for b, a in zip(before, after))


def test_the_answer_evaluation_defaults_to_the_same_files(monkeypatch, tmp_path):
    from tools.answer_eval.cli import _parse_args

    monkeypatch.setenv("GUIDE_FILE", str(tmp_path / "g.txt"))
    args = _parse_args([])
    assert (args.guide, args.terms) == (str(tmp_path / "g.txt"), str(LAY_TERMS))
