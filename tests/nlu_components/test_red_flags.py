import pytest
import yaml

from guide.red_flags import read_flags
from nlu_components.red_flags import RedFlagDetector
from tests.conftest import RED_FLAGS

FLAGS = yaml.safe_load(RED_FLAGS.read_text())["flags"]
PHRASES = [(flag, phrase) for flag, spec in FLAGS.items() for phrase in spec["phrases"]]


@pytest.fixture(scope="module")
def detector(nlp):
    return RedFlagDetector(nlp, read_flags(RED_FLAGS))


def as_sentence(phrase: str) -> str:
    return "Please help, " + phrase.replace("...", "is really") + " since this morning"


@pytest.mark.parametrize("flag, phrase", PHRASES, ids=[p for _, p in PHRASES])
def test_every_listed_phrase_raises_its_flag(detector, flag, phrase):
    found = detector.find(as_sentence(phrase))
    assert flag in [f["value"] for f in found], phrase


@pytest.mark.parametrize(
    "text, flag",
    [
        ("I have SUDDEN CHEST PAIN", "chest_pain"),
        ("my chest is in so much pain", "chest_pain"),
        ("her face is drooping and her speech is slurred", "stroke"),
        ("i cant breathe", "breathing"),
        ("my dad passed out in the kitchen", "fainting"),
        ("the wound is red, hot and oozing after my surgery", "wound_infection"),
        ("worst headache of my life, came on suddenly", "headache"),
        ("I have crushing chest pain, who treats heart calcification?", "chest_pain"),
    ],
)
def test_real_messages_raise_the_right_flag(detector, text, flag):
    assert [f["value"] for f in detector.find(text)][:1] == [flag]


def test_the_span_points_at_the_symptom(detector):
    text = "Since lunch I have had chest pain and I am scared"
    [found] = detector.find(text)
    assert text[found["start"]:found["end"]] == "chest pain"


@pytest.mark.parametrize(
    "text",
    [
        "how do I look after the wound?",
        "will I need surgery?",
        "is there medicine for the pain after treatment",
        "there are faint calcium spots on my x-ray",
        "who treats calcification in the heart arteries",
        "what is a stroke of bad luck calcification",
        "can I go back to the gym",
        "what should I bring to my appointment",
        "",
        "   ",
        "🙂🙂🙂",
    ],
)
def test_ordinary_questions_raise_no_flag(detector, text):
    assert detector.find(text) == []

