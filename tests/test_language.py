"""Which language a query is in, and when a line for it has drifted into English."""

import pytest

from qmd_reward.language import drifted, function_word, language, script


@pytest.mark.parametrize(
    "query",
    [
        "espresso vs moka pot",
        "croissant recipe butter",
        "leonardo da vinci paintings",
        "pizza margherita recipe",
        "tacos al pastor recipe",
        "café latte art",
        "jalapeño poppers recipe",
        "déjà vu meaning",
        "schadenfreude meaning",
        "kindergarten schedule",
        "kubernetes pod",
        "docker compose volumes",
        "python dataclass default",
    ],
)
def test_english_queries_with_loanwords_stay_english(query):
    assert language(query) == "en"


def test_an_english_query_about_el_nino_stays_english():
    assert language("el niño weather pattern") == "en"


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("wie installiere ich docker", "de"),
        ("Wie funktioniert die Heizung im Winter", "de"),
        ("Rezept für Apfelkuchen", "de"),
        ("Steuererklärung Frist", "de"),
        ("comment configurer le wifi sur linux", "fr"),
        ("pourquoi le ciel est bleu", "fr"),
        ("comment faire une pâte à crêpes", "fr"),
        ("meilleur restaurant à Paris", "fr"),
        ("cómo hacer una paella valenciana", "es"),
        ("como instalar docker en ubuntu", "es"),
        ("por qué el cielo es azul", "es"),
        ("receta de tortilla de patatas", "es"),
    ],
)
def test_german_french_and_spanish_queries_are_recognised(query, lang):
    assert language(query) == lang


def test_a_french_query_with_de_is_french():
    assert language("recette de la tarte aux pommes") == "fr"


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("北京天气", "han"),
        ("東京の天気", "japanese"),
        ("서울 날씨", "hangul"),
        ("погода в москве", "cyrillic"),
    ],
)
def test_queries_in_other_scripts_are_named_by_script(query, lang):
    assert language(query) == lang


def test_kana_with_kanji_is_japanese_not_chinese():
    assert script("東京の天気") == "japanese"
    assert script("北京天气") == "han"


def test_text_without_letters_has_no_language():
    assert language("123 456") is None
    assert script("--- 42") is None


# --- drift ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_language", "line"),
    [
        ("de", "how to install docker on ubuntu"),
        ("de", "the docker daemon"),
        ("fr", "best restaurants in paris"),
        ("es", "how to make a paella"),
    ],
)
def test_english_function_words_in_a_line_for_a_foreign_query_are_drift(query_language, line):
    assert drifted(query_language, line)


def test_english_only_words_are_drift_without_any_function_word():
    # 'heating', 'nearby' and 'schedule' are common in English and rare in German.
    assert drifted("de", "heating nearby schedule")


@pytest.mark.parametrize(
    ("query_language", "line"),
    [
        ("de", "docker compose volumes"),
        ("de", "docker unter ubuntu installieren"),
        ("de", "kubernetes helm chart ingress"),
        ("fr", "meilleurs restaurants de paris"),
        ("es", "receta de paella valenciana"),
    ],
)
def test_shared_technical_terms_and_the_query_language_are_not_drift(query_language, line):
    assert not drifted(query_language, line)


@pytest.mark.parametrize("query_language", ["en", None])
def test_lines_for_english_or_unknown_queries_never_drift(query_language):
    assert not drifted(query_language, "how to install docker on ubuntu")


def test_an_english_sentence_for_a_chinese_query_is_drift():
    assert drifted("han", "how to check the weather in beijing")
    assert drifted("japanese", "Tokyo weather forecast for today and tomorrow")


def test_chinese_lines_and_a_few_latin_tokens_for_a_chinese_query_are_not_drift():
    assert not drifted("han", "北京天气预报")
    assert not drifted("han", "北京 weather")


def test_function_words_of_the_query_language():
    assert function_word("cómo", "es") and function_word("und", "de")
    assert not function_word("tiempo", "es")
    assert not function_word("the", "en")  # English ones are text.STOPWORDS
