"""Reading the guide and its lay-terms file (guide/parsing.py), including broken files."""

import pytest
import yaml

from guide.parsing import KnowledgeFileError, load_guide, parse_guide
from tests.conftest import GUIDE, LAY_TERMS


def test_guide_has_every_section_with_its_items(guide):
    counts = {key: len(s.items) for key, s in guide.sections.items()}
    assert counts == {
        "overview": 0, "types": 6, "preparation": 9, "treatment": 8, "specialists": 7, "recovery": 9,
    }
    assert guide.section("types").heading == "Understanding Calcified Lesions"
    assert guide.section("overview").intro.startswith("Calcified lesions, or calcifications, refer to")


def test_call_to_action_glued_to_a_heading_is_stripped(guide):
    # "Get A Second OpinionPreparing for Calcified Lesions?" in the source file
    assert guide.section("preparation").heading == "Preparing for Calcified Lesions?"
    assert guide.section("specialists").heading == "Who will treat Calcified Lesions?"
    assert guide.section("types").promo[0].startswith("Secure your health with a second opinion")


def test_item_text_is_the_guide_text(guide):
    item = guide.item("recovery:follow_medical_recommendations")
    assert item.title == "Follow Medical Recommendations"
    assert item.text.startswith("Following your healthcare provider's post-treatment instructions")
    assert guide.section("specialists").notes == [
        "The relevant specialist will be given determined based on the specific location, "
        "cause and health implications of the calcified lesions."
    ]


def test_every_lay_concept_has_phrases(guide):
    assert all(c.phrases for c in guide.concepts)
    assert guide.concept("lesion_type", "brain_calcifications").phrases[:2] == ("Brain Calcifications", "Brain")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x00\x01binary", "binary"),
        (b"\xff\xfe\xfa bad", "not UTF-8"),
    ],
)
def test_unreadable_guide_is_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "guide.txt"
    path.write_bytes(content)
    with pytest.raises(KnowledgeFileError, match=message):
        load_guide(path, LAY_TERMS)


def test_missing_guide_is_named(tmp_path):
    with pytest.raises(KnowledgeFileError, match="not found: .*nowhere.txt"):
        load_guide(tmp_path / "nowhere.txt", LAY_TERMS)


def test_missing_section_is_named(tmp_path):
    text = GUIDE.read_text().replace("Recovery after Calcified Lesions?", "Afterwards")
    path = tmp_path / "guide.txt"
    path.write_text(text)
    with pytest.raises(KnowledgeFileError, match="section 'recovery'"):
        load_guide(path, LAY_TERMS)


def test_renamed_item_referenced_by_lay_terms_is_reported(tmp_path):
    text = GUIDE.read_text().replace("- Wound Care:", "- Caring for the Wound:")
    path = tmp_path / "guide.txt"
    path.write_text(text)
    with pytest.raises(KnowledgeFileError, match="recovery_step 'wound_care' is not an item"):
        load_guide(path, LAY_TERMS)


def test_broken_lay_terms_yaml_is_reported(tmp_path):
    terms = tmp_path / "terms.yml"
    terms.write_text("sections: [unclosed")
    with pytest.raises(KnowledgeFileError, match="not valid YAML"):
        load_guide(GUIDE, terms)


def test_text_before_first_heading_is_reported():
    terms = yaml.safe_load(LAY_TERMS.read_text())
    with pytest.raises(KnowledgeFileError, match="before the first known heading"):
        parse_guide("Welcome!\n" + GUIDE.read_text(), terms)
