from qmd_reward.fts import fold, raw_tokens, stem, stems


def test_lowercases_and_strips_diacritics() -> None:
    assert fold("Crème BRÛLÉE") == "creme brulee"
    assert raw_tokens("Café-au-lait") == ["cafe", "au", "lait"]


def test_everything_but_letters_and_numbers_separates() -> None:
    assert raw_tokens("node.js 3.12 authorized_keys don't c++") == [
        "node",
        "js",
        "3",
        "12",
        "authorized",
        "keys",
        "don",
        "t",
        "c",
    ]


def test_porter_stemming_like_fts5() -> None:
    assert stems("running runs ponies caresses") == ["run", "run", "poni", "caress"]
    # FTS5's porter wrapper leaves tokens shorter than 3 characters alone.
    assert stem("is") == "is"
    assert stem("as") == "as"


def test_non_ascii_tokens_are_not_stemmed() -> None:
    assert stems("数据库 Straße") == ["数据库", "straße"]
