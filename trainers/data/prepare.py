"""``qmd-reward data prepare``: training files in, the files the trainers train on out.

Deduplication, the train/validation split and the row shapes are :mod:`.examples`', the same
code the trainers run, so a prepared directory holds exactly what ``train`` would use for the
same files and seed. What this module adds is optional short queries derived from longer ones
(QMD users type ``auth`` as often as whole questions) and a dataset card.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ._core import (
    LINE_TYPES,
    __version__,
    expansion_from_pairs,
    kept_by_qmd,
    parse_expansion,
    split_only_mode,
)
from .examples import (
    Example,
    LoadReport,
    dedupe,
    grpo_rows,
    normalise_query,
    prepare_examples,
    read_examples,
    sft_row,
    write_jsonl,
)

FILES = ("train.jsonl", "validation.jsonl", "grpo_train.jsonl", "README.md")
SHORT_SOURCE = "short"  # Example.source prefix of derived short examples
MIN_SOURCE_WORDS = 3  # a query of one or two words is already short
WITH_HYDE = "examples with hyde"


@dataclass(frozen=True)
class PrepareOptions:
    validation_fraction: float = 0.05
    seed: int = 42
    add_short: int = 0
    max_samples: int | None = None  # cap on training examples read, before short ones
    keep_labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Prepared:
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    report: LoadReport
    unique: int  # examples left after deduplication
    short: tuple[Example, ...] = ()  # the derived short examples (also inside ``train``)
    options: PrepareOptions = field(default_factory=PrepareOptions)
    files: tuple[str, ...] = ()

    @property
    def duplicates(self) -> int:
        return self.report.kept - self.unique


# -- words ------------------------------------------------------------------------------------

# A word keeps its technical glue: ``node.js``, ``c++``, ``gpt-4``, ``marcus's``.
_WORD = re.compile(r"\w+(?:[.+#'\-]\w+)*[+#]*")

# Function words and words that carry the question rather than the topic: never key terms.
STOPWORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto upon about
    as than then that this these those it its is are was were be been being am do does did
    has have had can could will would shall should may might must not no so if when where
    while which who whom whose what why how i me my we our you your he him his she her they
    them their there here very just also too each every both few more most other some such
    only same any all between through during before after above below over under again
    further once up down out off vs versus via per
    what is how to who where when why which find get show tell give explain want need
    please help like using use best good way ways something anything thing things""".split()
)

# Words that make no query alone and add nothing to a pair: generic filler ("guide",
# "basics", "tips") and words about recency or rank rather than a topic.
NOT_TOPICS = frozenset(
    """basic beginner beginners recent latest new best top changed understanding understand
    guide introduction overview basics fundamentals learn tips tutorial tutorials explained
    comprehensive resources various useful important general""".split()
)
ECHO_SIMILARITY = 95  # token-sort ratio at which a line is the query barely respelled


def words(text: str) -> tuple[str, ...]:
    """Lowercased word tokens."""
    return tuple(_WORD.findall(text.lower()))


def content_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in words(text) if w not in STOPWORDS)


@lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """Weight in [0.1, 1] from the word's Zipf frequency: rare words make a query specific."""
    from wordfreq import zipf_frequency

    return min(1.0, max(0.1, (6.5 - zipf_frequency(word, "en")) / 4.0))


def echoes(line: str, query: str) -> bool:
    """A line that only repeats ``query``: the query itself or with a few characters added,
    nothing but the query's words (function words aside), or the query barely respelled.

    A lex or vec line like that gives search nothing the query did not, and the judge
    charges for it.
    """
    line_text, query_text = " ".join(line.lower().split()), " ".join(query.lower().split())
    if not query_text:
        return False
    if query_text in line_text and len(line_text) < len(query_text) + 10:
        return True
    content = content_words(line)
    if content and set(content) <= set(content_words(query)):
        return True
    from rapidfuzz import fuzz

    return fuzz.token_sort_ratio(line_text, query_text) >= ECHO_SIMILARITY


# -- short queries ----------------------------------------------------------------------------

ADJACENT_BONUS = 1.5  # "fly tying" reads as a query; "fly basics" picked from afar does not
BOUND_SHARE = 0.8  # a word used this often inside one phrase is half of a compound


def _base(word: str) -> str:
    return word[:-2] if word.endswith("'s") else word  # "Marcus's notes" -> "Marcus"


@dataclass(frozen=True)
class KeyTerms:
    weights: dict[str, float]  # topic word -> rarity x share of lex and vec lines using it
    order: dict[str, int]  # word -> position in the query
    bound: frozenset[str]  # words the lines only use inside a phrase with a query neighbour


def _phrase_share(word: str, position: int, query: Sequence[str], lines: Sequence[list]) -> float:
    """Of the lines using ``word``, the largest share that uses it next to the same query
    neighbour, as in the query ("cold" in "cold war": every line says "cold war")."""
    using = [line for line in lines if word in line]
    best = 0.0
    for pair in (query[position - 1 : position + 1], query[position : position + 2]):
        # A year or a function word beside it does not make a phrase ("typescript 2026").
        if len(pair) < 2 or not using or any(w in STOPWORDS or w.isdigit() for w in pair):
            continue
        together = sum(any(line[i : i + 2] == pair for i in range(len(line) - 1)) for line in using)
        best = max(best, together / len(using))
    return best


def key_terms(example: Example) -> KeyTerms:
    """The query's topic words, weighted by rarity x the share of lex and vec lines using them.

    Rarity is what discriminates; a word that the example's own lex lines never use is not
    what the example is about (``defines`` in "what defines gothic architecture"), and
    keeping it would leave few lines that QMD does not drop for the new query.
    """
    text = split_only_mode(example.query).text
    query = list(map(_base, words(text)))
    parsed = [line for line in parse_expansion(example.expansion).lines if line.type != "hyde"]
    lines = [list(map(_base, words(line.text))) for line in parsed]
    lex_words = {w for line, p in zip(lines, parsed) if p.type == "lex" for w in line}
    skip = NOT_TOPICS
    weights: dict[str, float] = {}
    bound: set[str] = set()
    topical = {_base(w) for w in content_words(text)}
    for position, word in enumerate(query):
        if word in weights or word not in topical or word in skip or word.isdigit():
            continue
        if word not in lex_words:
            continue
        weights[word] = rarity(word) * sum(word in line for line in lines) / len(lines)
        if _phrase_share(word, position, query, lines) >= BOUND_SHARE:
            bound.add(word)
    order = {w: i for i, w in reversed(list(enumerate(query)))}  # first occurrence
    return KeyTerms(weights, order, frozenset(bound))


def _surface(word: str, query: str) -> str:
    """The word as the query spells it (``React``, not ``react``): casing carries entities."""
    match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", query, re.IGNORECASE)
    return match.group(0) if match else word


def short_query(example: Example, size: int) -> str | None:
    """The example's ``size`` (1 or 2) best key terms as a query, in the query's word order.

    None when there is nothing to choose, or when the best single word is one the example
    only uses inside a phrase ("cold" of "cold war"): alone it names something else, and
    the next best word is not what the example is about.
    """
    terms = key_terms(example)
    weights, order = terms.weights, terms.order
    if size == 1:
        best = max(weights, key=lambda w: (weights[w], -order[w]), default=None)
        if best is None or best in terms.bound:
            return None
        chosen = [best]
    else:
        if len(weights) < 2:
            return None

        def pair_weight(pair: tuple[str, str]) -> tuple[float, int]:
            a, b = pair
            bonus = ADJACENT_BONUS if abs(order[a] - order[b]) == 1 else 1.0
            return (weights[a] + weights[b]) * bonus, -order[a]

        ranked = sorted(weights, key=order.__getitem__)
        pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1 :]]
        first, second = max(pairs, key=pair_weight)
        chosen = [first, second]
    return " ".join(_surface(w, example.query) for w in sorted(chosen, key=order.__getitem__))


def shorten(example: Example, query: str) -> Example | None:
    """``example`` re-targeted at the short ``query``, or None when too little survives.

    Only lines QMD would still use are kept: one without a term of the new query is dropped
    by QMD before searching, so training on it would teach output that is thrown away. A
    lex or vec line that only repeats the short query goes too: what was a rephrasing of the
    long query can be an echo of the short one ("great wall history" for "great wall"), and
    the judge charges for echoes (:func:`echoes`).
    """
    pairs: list[tuple[str, str]] = []
    for line in parse_expansion(example.expansion).lines:
        if not kept_by_qmd(line.text, query):
            continue
        if line.type != "hyde" and echoes(line.text, query):
            continue
        pairs.append((line.type, line.text))
    kinds = Counter(kind for kind, _ in pairs)
    if not (kinds["lex"] and kinds["vec"]):
        return None
    source = f"{SHORT_SOURCE}:{example.source}"
    return Example(query, expansion_from_pairs(pairs), example.category, source)


def short_examples(
    sources: Sequence[Example], existing: Iterable[str], count: int, seed: int
) -> list[Example]:
    """Up to ``count`` short examples from ``sources``, the same ones for the same seed.

    Each source gives at most one; a short query equal (normalised) to a query in
    ``existing`` or to one made earlier is never made, so no query appears twice.
    """
    if count <= 0:
        return []
    taken = set(existing)
    rng = random.Random(f"{seed}:short")
    candidates = sorted(
        (e for e in sources if split_only_mode(e.query).only is None),
        key=lambda e: (normalise_query(e.query), e.source),  # independent of file order
    )
    candidates = [e for e in candidates if len(words(e.query)) >= MIN_SOURCE_WORDS]
    rng.shuffle(candidates)
    made: list[Example] = []
    for example in candidates:
        first = rng.choice((1, 2))
        for size in (first, 3 - first):
            query = short_query(example, size)
            if query is None or normalise_query(query) in taken:
                continue
            short = shorten(example, query)
            if short is not None:
                taken.add(normalise_query(query))
                made.append(short)
                break
        if len(made) == count:
            break
    return made


# -- the whole preparation ----------------------------------------------------------------------


def prepare_dataset(paths: Sequence[str | Path], options: PrepareOptions) -> Prepared:
    """Read, deduplicate, split (the trainers' code), cap, then add short examples.

    Short examples come from the training split only and join it, so the validation split
    stays curated data and no derived text overlaps a validation example.
    """
    examples, report = read_examples(paths, options.keep_labels)
    pool = dedupe(examples)
    parts = prepare_examples(
        pool,
        validation_fraction=options.validation_fraction,
        seed=options.seed,
        max_samples=options.max_samples,
        deduplicate=False,  # done above, to count what it removed
    )
    existing = {normalise_query(e.query) for e in pool}
    short = short_examples(parts.train, existing, options.add_short, options.seed)
    train = list(parts.train)
    if short:
        # Mixed in rather than appended, so the head of the file is a fair sample.
        train += short
        random.Random(f"{options.seed}:with-short").shuffle(train)
    files = tuple(str(p) for p in paths)
    return Prepared(tuple(train), parts.validation, report, len(pool), tuple(short), options, files)


def write_dataset(prepared: Prepared, out_dir: str | Path, command: str) -> dict[str, Path]:
    """Write the three JSONL files and the card; returns the paths by file name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FILES}
    write_jsonl((sft_row(e) for e in prepared.train), paths["train.jsonl"])
    write_jsonl((sft_row(e) for e in prepared.validation), paths["validation.jsonl"])
    write_jsonl(grpo_rows(prepared.train), paths["grpo_train.jsonl"])
    paths["README.md"].write_text(render_card(prepared, command), encoding="utf-8")
    return paths


def line_type_counts(examples: Iterable[Example]) -> Counter:
    """Lines of each type, and examples with a hyde line (``WITH_HYDE``), over ``examples``."""
    counts: Counter = Counter()
    for example in examples:
        parsed = parse_expansion(example.expansion)
        kinds = Counter(line.type for line in parsed.lines)
        for kind in LINE_TYPES:
            counts[kind] += kinds[kind]
        counts[WITH_HYDE] += bool(kinds["hyde"])
    return counts


# -- the dataset card -----------------------------------------------------------------------------

MAX_ERRORS_LISTED = 10


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return lines


def _short_note(prepared: Prepared) -> str:
    asked, added = prepared.options.add_short, len(prepared.short)
    if not asked:
        return "none (no `--add-short`)"
    if added == asked:
        return f"{added} added, as requested"
    return (
        f"{added} added of {asked} requested: no other training example of three or more words "
        "gave a new short query with a lex and a vec line left"
    )


def _sources(prepared: Prepared) -> list[str]:
    report, options = prepared.report, prepared.options
    cap = options.max_samples
    lines = [
        "## Where the examples came from",
        "",
        *(f"- `{name}`" for name in prepared.files),
        "",
        f"- records read: {report.read}; usable: {report.kept}; unreadable: "
        f"{len(report.errors)}; dropped for their label: {report.skipped_labels}",
        f"- duplicate queries removed: {prepared.duplicates} (same query once case, width, "
        "whitespace and a trailing `?.!` are normalised; the first one read is kept)",
        f"- split: {options.validation_fraction:g} of each category's queries held out for "
        f"validation, seed {options.seed}; a query is in one split only",
        "- training examples from the files: "
        + (f"capped at {cap}" if cap is not None else "no cap"),
        f"- short queries derived from longer training examples: {_short_note(prepared)}",
    ]
    if report.errors:
        lines += ["", "Unreadable records:", ""]
        lines += [f"- {error}" for error in report.errors[:MAX_ERRORS_LISTED]]
        if len(report.errors) > MAX_ERRORS_LISTED:
            lines.append(f"- ... {len(report.errors) - MAX_ERRORS_LISTED} more")
    return lines


def _by_category(prepared: Prepared) -> list[str]:
    train = Counter(e.category or "(none)" for e in prepared.train)
    validation = Counter(e.category or "(none)" for e in prepared.validation)
    names = sorted(set(train) | set(validation), key=lambda c: (-train[c] - validation[c], c))
    rows = [[name, train[name], validation[name]] for name in names]
    rows.append(["**total**", len(prepared.train), len(prepared.validation)])
    return ["## Examples by category", "", *_table(["category", "train", "validation"], rows)]


def _by_shape(prepared: Prepared) -> list[str]:
    train, validation = line_type_counts(prepared.train), line_type_counts(prepared.validation)
    only_train = sum(split_only_mode(e.query).only is not None for e in prepared.train)
    only_validation = sum(split_only_mode(e.query).only is not None for e in prepared.validation)
    rows = [[f"{kind} lines", train[kind], validation[kind]] for kind in LINE_TYPES]
    rows += [
        [
            "examples with a hyde line",
            train["examples with hyde"],
            validation["examples with hyde"],
        ],
        ["`/only:` queries", only_train, only_validation],
        ["derived short queries", len(prepared.short), 0],
    ]
    return ["## Line types", "", *_table(["", "train", "validation"], rows)]


def render_card(prepared: Prepared, command: str) -> str:
    """A small README for the prepared directory. No date in it: the same inputs and seed give
    byte-identical files, card included."""
    rows = [
        [
            "`train.jsonl`",
            len(prepared.train),
            "SFT chat rows: the user turn QMD sends "
            "(`/no_think Expand this search query: ...`), the expansion as the assistant turn",
        ],
        ["`validation.jsonl`", len(prepared.validation), "the same shape, held out"],
        [
            "`grpo_train.jsonl`",
            len(prepared.train),
            "GRPO prompt rows for the training "
            "queries: `prompt`, `query`, and the example's expansion as `reference`",
        ],
    ]
    lines = [
        "# QMD query-expansion training data",
        "",
        f"Prepared by qmd-reward {__version__} with:",
        "",
        f"    {command}",
        "",
        *_table(["file", "rows", "contents"], rows),
        "",
        *_sources(prepared),
        "",
        *_by_category(prepared),
        "",
        *_by_shape(prepared),
    ]
    return "\n".join(lines) + "\n"
