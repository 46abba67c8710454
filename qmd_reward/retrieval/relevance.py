"""Decide which documents are relevant to a record, from whatever the inputs provide."""

from __future__ import annotations

from collections.abc import Mapping

from qmd_reward.retrieval.corpus import Corpus
from qmd_reward.retrieval.querytext import base_query, normalise_query
from qmd_reward.retrieval.records import QueryRecord


class RelevanceSource:
    """Relevance for records, in order of preference.

    1. the record's own ``relevant_docs``;
    2. its ``query_id`` in the corpus qrels;
    3. the pseudo-relevance map of a reference corpus (base query -> its passages);
    4. the corpus query whose text equals the record's query (lowercased, spaces collapsed).

    Comparisons ignore a trailing "/only:..." directive.
    """

    def __init__(self, corpus: Corpus, pseudo: Mapping[str, list[str]] | None = None) -> None:
        self.corpus = corpus
        self.pseudo = dict(pseudo or {})
        self._pseudo_normalised = {normalise_query(q): ids for q, ids in self.pseudo.items()}
        self._query_ids = {normalise_query(text): qid for qid, text in corpus.queries.items()}

    def for_record(self, record: QueryRecord) -> dict[str, int] | None:
        if record.relevant_docs is not None:
            return dict.fromkeys(record.relevant_docs, 1)
        if record.query_id is not None and record.query_id in self.corpus.qrels:
            return dict(self.corpus.qrels[record.query_id])
        ids = self.pseudo.get(base_query(record.query)) or self._pseudo_normalised.get(
            normalise_query(record.query)
        )
        if ids:
            return dict.fromkeys(ids, 1)
        query_id = self._query_ids.get(normalise_query(record.query))
        if query_id is not None and query_id in self.corpus.qrels:
            return dict(self.corpus.qrels[query_id])
        return None
