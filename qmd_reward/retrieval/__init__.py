"""BM25 retrieval gain: does an expansion's lex lines help QMD find the right documents?"""

from qmd_reward.ftsquery import LexQuery, parse_lex_line
from qmd_reward.retrieval.corpus import Corpus, Document, reference_passage
from qmd_reward.retrieval.index import BM25Index
from qmd_reward.retrieval.judge import DocRank, LineOutcome, RetrievalJudge, RetrievalResult

__all__ = [
    "BM25Index",
    "Corpus",
    "DocRank",
    "Document",
    "LexQuery",
    "LineOutcome",
    "RetrievalJudge",
    "RetrievalResult",
    "parse_lex_line",
    "reference_passage",
]
