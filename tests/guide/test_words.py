from guide.words import mentions


def test_mentions_accepts_plurals_and_whole_words_only():
    assert mentions("calcifications in the kidneys", "kidney")
    assert not mentions("kidneystone", "kidney")
