"""The word lists and frequencies the judge reads."""

from wordfreq import top_n_list, zipf_frequency

from qmd_reward.lexicon import rarity, word_list, zipf


def test_zipf_reads_wordfreq_exactly():
    """lexicon.zipf reads wordfreq's table for plain words: it must agree with
    wordfreq.zipf_frequency on every word, known or not, in English and other languages."""
    for lang in ("en", "de", "es"):
        sample = [*top_n_list(lang, 20000)[::7], "zxqvbn", "kubernetes", "pgbouncer"]
        for word in sample:
            assert zipf(word, lang) == zipf_frequency(word, lang), (word, lang)


def test_rarity_ranks_rare_words_higher():
    assert rarity("kubernetes") > rarity("server") > rarity("the")
    assert 0.1 <= rarity("the") <= rarity("zxqvbn") <= 1.0


def test_word_lists_are_lowercase_and_keep_symbols():
    assert "c#" in word_list("gazetteer.txt") or "c++" in word_list("gazetteer.txt")
    assert all(entry == entry.lower() for entry in word_list("generic_words.txt"))
