"""The red-flag matcher (nlu_components/red_flags.py) on the real phrase file and the
real spaCy pipeline: every phrase raises its flag, negated, past and reassured mentions
do not (rules: guide/negation.py, tested alone in tests/guide/test_negation.py), and a
present symptom next to them still does."""

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from guide.red_flags import read_flags, samples
from rasa.shared.nlu.training_data.message import Message

from nlu_components.red_flags import RedFlagDetector, RedFlagMatcher
from tests.conftest import RED_FLAGS, ROOT

FILE = yaml.safe_load(RED_FLAGS.read_text())
FLAGS = FILE["flags"]
# Every phrase as written; a phrase with word classes ("<cannot> <breathe>") as enough
# of the phrases it stands for that each word of each of its classes is tried once.
PHRASES = [(flag, sample) for flag, spec in FLAGS.items() for phrase in spec["phrases"]
           for sample in samples(str(phrase), FILE.get("words", {}))]
FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def detector(nlp):
    return RedFlagDetector(nlp, read_flags(RED_FLAGS))


def flags_in(detector, text):
    return {f["value"] for f in detector.find(text)}


def written(phrase: str) -> str:
    return phrase.replace("...", "is really")


@pytest.mark.parametrize("template", [
    "{}",
    "I have {}",
    "my dad {}",
    "Please help, {} since this morning",
])
@pytest.mark.parametrize("flag, phrase", PHRASES, ids=[p for _, p in PHRASES])
def test_every_listed_phrase_raises_its_flag(detector, flag, phrase, template):
    assert flag in flags_in(detector, template.format(written(phrase))), phrase


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
        ("I just want to kill myself, nothing helps anymore", "self_harm"),
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



@pytest.mark.parametrize("text, not_raised", [
    ("There is no chest pain at all, I only want to know about my scan", "chest_pain"),
    ("Just wondering, what does chest tightness from calcium feel like?", "chest_pain"),
    ("I'm not having a heart attack, relax", "chest_pain"),
    ("He has no difficulty breathing and sleeps fine", "breathing"),
    ("I was short of breath back in 2019 and made a full recovery", "breathing"),
    ("Her speech is not slurred and her face isn't drooping", "stroke"),
    ("My uncle showed signs of a stroke years ago and is doing well now", "stroke"),
    ("I have never fainted", "fainting"),
    ("As a teenager I once blacked out at a concert", "fainting"),
    ("Grandpa collapsed two years ago but he is fine now", "collapse"),
    ("She isn't unconscious, she is just tired", "collapse"),
    ("There's no heavy bleeding from the cut", "bleeding"),
    ("The wound is not oozing and there is no pus coming out", "wound_infection"),
    ("I had a high fever as a child, can that cause calcium deposits?", "wound_infection"),
    ("I've never had a severe headache", "headache"),
    ("Chest pain: none. Temperature normal.", "chest_pain"),
    ("no chest pain, trouble breathing or fever", "breathing"),
    ("Nothing urgent, just curious whether chest pain can come from calcium", "chest_pain"),
    ("I don’t have a high fever", "wound_infection"),
])
def test_negated_past_and_reassured_mentions_raise_nothing(detector, text, not_raised):
    assert flags_in(detector, text) == set(), not_raised


@pytest.mark.parametrize("text, raised", [
    ("no high fever but I have crushing chest pain right now", {"chest_pain"}),
    ("I'm not sure, but I think my wife is having a stroke", {"stroke"}),
    ("I don't have a high fever, but he can't breathe", {"breathing"}),
    ("My mum had signs of a stroke years ago, and now her face is drooping", {"stroke"}),
    ("I fainted as a kid, but today I passed out twice", {"fainting"}),
    ("not bleeding heavily anymore, but my wound is oozing pus", {"wound_infection"}),
    ("I'm not short of breath but my chest hurts", {"chest_pain"}),
    ("She doesn't have chest pain, she collapsed and won't wake up", {"collapse"}),
    ("no chest pressure, chest pain now", {"chest_pain"}),
    # a question word does not hide a report (why "what would" and "is it possible" are
    # no reassurance cues: measured, they dropped "isn't breathing" here)
    ("what would you do, my dad collapsed and isn't breathing", {"collapse", "breathing"}),
    ("is it possible to get help, my mum collapsed and won't wake up", {"collapse"}),
    ("is it possible the calcium did this? he is choking right now", {"breathing"}),
    ("I didn't have chest pain yesterday but today I do", {"chest_pain"}),
])
def test_mixed_messages_raise_the_present_symptom(detector, text, raised):
    assert flags_in(detector, text) == raised


@pytest.mark.parametrize("text, flag", [
    ("she isn't breathing", "breathing"),
    ("she isn’t breathing", "breathing"),  # a phone's apostrophe
    ("he can't breathe", "breathing"),
    ("I can’t breathe", "breathing"),
    ("I don't feel my arm", "stroke"),
    ("my son is not responding", "collapse"),
    ("he won't wake up", "collapse"),
    ("I hope he's not having a stroke", "stroke"),
    ("I can't walk without getting short of breath", "breathing"),
    ("I've never had chest pain like this", "chest_pain"),
])
def test_a_negation_that_is_the_symptom_still_raises_it(detector, text, flag):
    assert flag in flags_in(detector, text)


@pytest.mark.parametrize("text", [
    "my grandfather fell and doesn't answer me",
    "mum fall down and not wake",
    "he lying on floor and not talking to me",
    "my sister is unconscious on the kitchen floor",
    "he passed out and won't come round",
    "dad collapse in garden, he no wake up",
    "my wife is not responding",
    "I can't wake him, please help",
    "she just keeled over",
    "he dropped to the floor and isnt moving",
    "my husband he not answer me",
    "found my father on the floor",
    "she is very hard to wake",
    "baby not open eyes",
    "he collapsed",
])
def test_collapse_and_unresponsiveness_in_plain_and_non_native_words(detector, text):
    assert "collapse" in flags_in(detector, text)


def test_the_output_format_is_kept(detector):
    [found] = detector.find("my dad collapsed")
    assert found == {"entity": "red_flag", "start": 7, "end": 16, "value": "collapse",
                     "label": FLAGS["collapse"]["label"]}


@FUZZ
@given(st.sampled_from(PHRASES), st.sampled_from(["", " now", "!", " since this morning", ", please help"]))
def test_i_have_and_any_listed_phrase_always_raises_its_flag(detector, flag_phrase, ending):
    flag, phrase = flag_phrase
    assert flag in flags_in(detector, "I have " + written(phrase) + ending)


@FUZZ
@given(st.text())
def test_find_never_raises_on_any_text(detector, text):
    for found in detector.find(text):
        assert 0 <= found["start"] < found["end"] <= len(text)


class _Matcher(RedFlagMatcher):
    """The component's process() with a given detector (no model storage needed)."""

    def __init__(self, detector):  # noqa: D107 - test double of the constructor only
        self._detector_for_test = detector
        self._config = RedFlagMatcher.get_default_config()

    @property
    def detector(self):
        return self._detector_for_test


def _classified(text, intent, ranking):
    message = Message.build(text=text)
    message.set("intent", {"name": intent, "confidence": 0.9})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    return message


def test_a_classifier_alarm_on_only_negated_mentions_gives_way_to_its_next_guess(detector):
    message = _classified("zero chest pain, zero shortness of breath, what does a cardiologist do?",
                          "report_emergency", [("report_emergency", 0.9), ("ask_specialist", 0.08)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "ask_specialist"
    assert message.get("overridden_intent")["name"] == "report_emergency"


@pytest.mark.parametrize("text", [
    "grandpa fall down and no wake up",             # a listed phrase, present: stays
    "he went grey and is making strange noises",    # no listed phrase at all: the classifier decides
    "no fever but my chest is crushing me now",     # one negated, one present
])
def test_a_classifier_alarm_stays_unless_every_mention_is_discounted(detector, text):
    message = _classified(text, "report_emergency", [("report_emergency", 0.9), ("greet", 0.05)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "report_emergency"


@pytest.mark.parametrize("text", [
    "my dad had a stroke years ago, he's fine now. can calcium build up in the brain?",
    "the bleeding stopped days ago. how do i care for the wound now?",
])
def test_a_classifier_alarm_on_a_story_that_is_over_gives_way_to_the_question(detector, text):
    message = _classified(text, "report_emergency", [("report_emergency", 0.8), ("ask_recovery", 0.1)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "ask_recovery"


@pytest.mark.parametrize("hits, expected", [
    ([{"item": "types:atherosclerotic_calcifications", "score": 0.77}], "ask_types"),   # closest item's section
    ([{"item": "types:atherosclerotic_calcifications", "score": 0.40}], "nlu_fallback"),  # none close enough
    ([], "nlu_fallback"),
])
def test_a_next_guess_that_is_noise_is_routed_as_an_unsure_message(detector, hits, expected):
    # The alarm took 0.95; the next guess (a second opinion, 0.008) is 16% of what was left:
    # no booking form for a question about a type.
    message = _classified("I have no chest pain, nothing like that, I just read my dad's old report. "
                          "What is atherosclerotic calcification?", "report_emergency",
                          [("report_emergency", 0.95), ("request_second_opinion", 0.008), ("ask_types", 0.006)])
    message.set("intent", {"name": "report_emergency", "confidence": 0.95})
    message.set("guide_items", hits)
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == expected
    assert message.get("overridden_intent")["name"] == "report_emergency"
    assert "report_emergency" not in [r["name"] for r in message.get("intent_ranking")]


def test_the_next_guess_is_routed_with_the_routers_own_score():
    config = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in config}
    assert by_name["RedFlagMatcher"]["min_score"] == by_name["GuideIntentRouter"]["min_score"]


@pytest.mark.parametrize("text, plan", [
    ("What should I do if I ever get chest pain? Just want a plan ready.", ["chest_pain"]),
    ("in case he is having a seizure, who do we call?", ["seizure"]),
    ("if I ever had trouble breathing because of lung calcification, what should I do?", ["breathing"]),
    ("can calcification cause chest pain?", []),                     # no question of what to do
    ("what should I do about my tablets before the scan?", []),      # no red flag
    ("no chest pain at all, what should I do before the scan?", []), # denied, not a condition
])
def test_a_what_to_do_question_names_the_hypothetical_flags(detector, text, plan):
    assert detector.planned(text) == plan


def test_the_plan_is_in_the_parse_data_and_no_alarm_is_raised(detector):
    message = _classified("What should I do if I ever get chest pain?", "ask_recovery", [("ask_recovery", 0.9)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "ask_recovery"
    assert message.get("red_flag_plan") == ["chest_pain"]
    assert message.as_dict_nlu().get("red_flag_plan") == ["chest_pain"]


def test_a_story_that_is_over_takes_the_best_guide_question_among_the_next_guesses(detector):
    # the classifier's next guess is out_of_scope, the guide question comes just after it
    message = _classified("the bleeding stopped days ago. how do i care for the wound now?", "report_emergency",
                          [("report_emergency", 0.7), ("out_of_scope", 0.11), ("ask_recovery", 0.08)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "ask_recovery"
    assert [r["name"] for r in message.get("intent_ranking")] == ["ask_recovery", "out_of_scope"]


@pytest.mark.parametrize("text, flags", [
    ("no breathing problems at all", set()),
    ("my lungs are fine, no breathing issues, but what causes calcium in the lungs?", set()),
    ("he has no breathing", {"breathing"}),
    ("no breathing and no pulse", {"breathing", "collapse"}),
])
def test_no_breathing_problems_denies_while_no_breathing_alarms(detector, text, flags):
    assert flags_in(detector, text) == flags


@pytest.mark.parametrize("text", [
    "he had a stroke years ago and now he is slurring, what do I do?",   # a listed phrase, present
    "bleeding stopped days ago but now it is gushing",                    # no question, no guide question
])
def test_a_story_that_is_not_over_keeps_the_alarm(detector, text):
    message = _classified(text, "report_emergency", [("report_emergency", 0.8), ("ask_recovery", 0.1)])
    _Matcher(detector).process([message])
    assert message.get("intent")["name"] == "report_emergency"


EMERGENCY_SET = yaml.safe_load((ROOT / "tests" / "eval" / "emergencies.yml").read_text())


@pytest.mark.parametrize("text", EMERGENCY_SET["emergencies"])
def test_every_emergency_of_the_blind_written_set_raises_a_flag(detector, text):
    assert flags_in(detector, text), text


# ---- an alarm of the classifier alone, with no listed phrase in the message
def _alarm(detector, text, confidence):
    message = _classified(text, "report_emergency", [("report_emergency", confidence), ("ask_recovery", 0.1)])
    message.set("intent", {"name": "report_emergency", "confidence": confidence})
    _Matcher(detector).process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize("text, confidence, then", [
    ("wound isnt bleeding and no fever, all healing nicely, just want to know when i can get back to tennis", 0.99,
     "ask_recovery"),
    ("If I ever got a fever after the operation, at what temperature should I call you?", 0.98, "ask_recovery"),
    ("how do i bake sourdough bread", 0.53, "ask_recovery"),   # 0.1 of the 0.47 left: it stands
    # the next guess, 0.1 of the 0.99 left, is noise: unsure, as the fallback would say
    ("how do i bake sourdough bread", 0.01, "nlu_fallback"),
])
def test_a_classifier_alarm_on_denied_symptoms_a_hypothesis_or_a_weak_guess_gives_way(detector, text, confidence,
                                                                                       then):
    assert _alarm(detector, text, confidence) == then


@pytest.mark.parametrize("text, confidence", [
    ("how do i bake sourdough bread", 0.9),                                  # a confident guess stays
    ("my mum had calcium removed from her hip and she's very weak now. will she get physio?", 0.72),  # a symptom
    ("he went grey and his arm hurts, what do i do", 0.6),                  # a present symptom word
    ("he went grey and is making strange noises", 0.6),                      # not a question
])
def test_a_classifier_alarm_with_a_present_symptom_or_no_question_stays(detector, text, confidence):
    assert _alarm(detector, text, confidence) == "report_emergency"


@pytest.mark.parametrize("text, flag", [
    ("chest pian since an hour", "chest_pain"),  # two letters swapped: "pain", not "plan"
    ("sudden chest pian and sweaty", "chest_pain"),
    ("she is unconcious on the floor", "collapse"),
])
def test_a_swap_of_two_letters_is_read_as_the_phrase_word(detector, text, flag):
    assert flag in flags_in(detector, text)


def test_a_real_word_is_not_corrected_into_a_red_flag(detector):
    assert flags_in(detector, "I have a plan for my chest scan") == set()


def test_a_typo_after_a_long_stretch_of_unknown_words_is_still_read(detector):
    """Every unknown word is looked up (a bound of 40 per message once left this unread);
    a word seen before is answered from the cache."""
    made_up = " ".join(f"zq{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}xv" for i in range(300))
    assert "chest_pain" in flags_in(detector, made_up + " chest pian now")
    before = detector._index._typo_of.cache_info().hits
    flags_in(detector, made_up)
    assert detector._index._typo_of.cache_info().hits - before == 300
