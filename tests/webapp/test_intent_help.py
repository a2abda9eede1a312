"""Every intent staff can pick when correcting a message has a plain description."""

from webapp.staff.console import ROOT, load_domain_names, load_intent_help


def test_every_domain_intent_is_described():
    intents, _ = load_domain_names(str(ROOT / "domain.yml"))
    described = load_intent_help()
    assert sorted(set(intents) - set(described)) == []
    assert sorted(set(described) - set(intents)) == []  # no description of an intent that is gone
    assert all(len(text) > 8 for text in described.values())


def test_the_correction_form_shows_descriptions(client, seeded):
    from tests.webapp.conftest import scalar

    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-old'")
    page = client.get(f"/staff/conversations/{cid}").text
    assert ">How they are treated (medicines, surgery, lithotripsy...) (ask_treatment)</option>" in page
    assert "How it was understood: What calcified lesions are, in general" in page
