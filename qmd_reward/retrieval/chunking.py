"""QMD's document chunking for the embedding index (``src/store.ts``, regex strategy).

``chunk_document`` is QMD's ``chunkDocument``: cut near every ``max_chars``, at the best
markdown break point (headings over code fences over rules over paragraphs over list items
over newlines) within a window before the target, never inside a code fence, with
``overlap_chars`` of overlap. ``chunk_by_tokens`` is ``chunkDocumentByTokens``, what
``qmd embed`` uses: the same cut in characters at 3 characters a token, then any chunk
over the token limit is split again at its measured characters per token.

Positions count Python characters (code points) where QMD counts UTF-16 units, so a
document with characters outside the BMP (emoji) may be cut a character or two apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

CHUNK_SIZE_TOKENS = 900
CHUNK_OVERLAP_TOKENS = math.floor(CHUNK_SIZE_TOKENS * 0.15)  # 135
CHUNK_WINDOW_TOKENS = 200
CHUNK_SIZE_CHARS = CHUNK_SIZE_TOKENS * 4  # 3600
CHUNK_OVERLAP_CHARS = CHUNK_OVERLAP_TOKENS * 4  # 540
CHUNK_WINDOW_CHARS = CHUNK_WINDOW_TOKENS * 4  # 800
# chunkDocumentByTokens' first, character-space pass: "prose ~4, code ~2, mixed ~3".
AVG_CHARS_PER_TOKEN = 3
DECAY_FACTOR = 0.7

# BREAK_PATTERNS, in QMD's order; a position keeps its best score. [0-9]: JS \d is ASCII.
BREAK_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\n#(?!#)"), 100),
    (re.compile(r"\n#{2}(?!#)"), 90),
    (re.compile(r"\n#{3}(?!#)"), 80),
    (re.compile(r"\n#{4}(?!#)"), 70),
    (re.compile(r"\n#{5}(?!#)"), 60),
    (re.compile(r"\n#{6}(?!#)"), 50),
    (re.compile(r"\n```"), 80),
    (re.compile(r"\n(?:---|\*\*\*|___)\s*\n"), 60),
    (re.compile(r"\n\n+"), 20),
    (re.compile(r"\n[-*]\s"), 5),
    (re.compile(r"\n[0-9]+\.\s"), 5),
    (re.compile(r"\n"), 1),
)
_FENCE = re.compile(r"\n```")

Chunk = tuple[str, int]  # (text, character position in the document)


def scan_break_points(text: str) -> list[tuple[int, int]]:
    """``scanBreakPoints``: (position, score) sorted by position."""
    best: dict[int, int] = {}
    for pattern, score in BREAK_PATTERNS:
        for match in pattern.finditer(text):
            pos = match.start()
            if score > best.get(pos, -1):
                best[pos] = score
    return sorted(best.items())


def find_code_fences(text: str) -> list[tuple[int, int]]:
    """``findCodeFences``: (start, end) of each fenced region; an unclosed one runs on."""
    regions = []
    start: int | None = None
    for match in _FENCE.finditer(text):
        if start is None:
            start = match.start()
        else:
            regions.append((start, match.end()))
            start = None
    if start is not None:
        regions.append((start, len(text)))
    return regions


def _inside_fence(pos: int, fences: Sequence[tuple[int, int]]) -> bool:
    return any(start < pos < end for start, end in fences)


def find_best_cutoff(
    break_points: Sequence[tuple[int, int]],
    target: int,
    window: int = CHUNK_WINDOW_CHARS,
    decay: float = DECAY_FACTOR,
    fences: Sequence[tuple[int, int]] = (),
) -> int:
    """``findBestCutoff``: the break point with the best score, decayed by the square of
    its distance back from ``target``; ``target`` itself when none is in the window."""
    best_score = -1.0
    best_pos = target
    for pos, score in break_points:
        if pos < target - window:
            continue
        if pos > target:
            break
        if _inside_fence(pos, fences):
            continue
        if window <= 0:
            continue  # QMD divides 0 by 0 here: NaN never wins
        distance = (target - pos) / window
        final = score * (1.0 - distance * distance * decay)
        if final > best_score:
            best_score = final
            best_pos = pos
    return best_pos


def chunk_with_break_points(
    content: str,
    break_points: Sequence[tuple[int, int]],
    fences: Sequence[tuple[int, int]],
    max_chars: int = CHUNK_SIZE_CHARS,
    overlap_chars: int = CHUNK_OVERLAP_CHARS,
    window_chars: int = CHUNK_WINDOW_CHARS,
) -> list[Chunk]:
    """``chunkDocumentWithBreakPoints``."""
    if len(content) <= max_chars:
        return [(content, 0)]
    chunks: list[Chunk] = []
    pos = 0
    while pos < len(content):
        target = min(pos + max_chars, len(content))
        end = target
        if end < len(content):
            cut = find_best_cutoff(break_points, target, window_chars, DECAY_FACTOR, fences)
            if pos < cut <= target:
                end = cut
        if end <= pos:
            end = min(pos + max_chars, len(content))
        chunks.append((content[pos:end], pos))
        if end >= len(content):
            break
        last = chunks[-1][1]
        pos = end - overlap_chars
        if pos <= last:
            pos = end
    return chunks


def chunk_document(
    content: str,
    max_chars: int = CHUNK_SIZE_CHARS,
    overlap_chars: int = CHUNK_OVERLAP_CHARS,
    window_chars: int = CHUNK_WINDOW_CHARS,
) -> list[Chunk]:
    """``chunkDocument``: character chunks cut at markdown break points."""
    return chunk_with_break_points(
        content,
        scan_break_points(content),
        find_code_fences(content),
        max_chars,
        overlap_chars,
        window_chars,
    )


def chunk_by_tokens(
    content: str,
    count_tokens: Callable[[Sequence[str]], list[int]],
    max_tokens: int = CHUNK_SIZE_TOKENS,
    overlap_tokens: int = CHUNK_OVERLAP_TOKENS,
    window_tokens: int = CHUNK_WINDOW_TOKENS,
) -> list[Chunk]:
    """``chunkDocumentByTokens``: chunks of at most ``max_tokens`` tokens of the model."""
    max_chars = max_tokens * AVG_CHARS_PER_TOKEN
    overlap_chars = overlap_tokens * AVG_CHARS_PER_TOKEN
    window_chars = window_tokens * AVG_CHARS_PER_TOKEN
    first = chunk_document(content, max_chars, overlap_chars, window_chars)
    results: list[Chunk] = []

    def push(text: str, pos: int, tokens: int) -> None:
        if tokens <= max_tokens or len(text) <= 1:
            if text:
                results.append((text, pos))
            return
        per_token = len(text) / tokens
        safe_max = math.floor(max_tokens * per_token * 0.95)
        if safe_max < 1:
            safe_max = len(text) // 2
        safe_max = max(1, min(len(text) - 1, safe_max))
        next_overlap = _clamp_overlap(overlap_chars * per_token / 2, safe_max)
        next_window = max(0, math.floor(window_chars * per_token / 2))
        sub = chunk_document(text, safe_max, next_overlap, next_window)
        if len(sub) <= 1 or len(sub[0][0]) == len(text):
            safe_max = max(1, len(text) // 2)
            sub = chunk_document(text, safe_max, 0, 0)
        if len(sub) <= 1 or len(sub[0][0]) == len(text):
            # QMD keeps the first max_tokens tokens; the embedder truncates to its window
            # itself, so the chunk is kept whole (this cannot happen for len(text) > 1).
            results.append((text, pos))
            return
        counts = count_tokens([piece for piece, _ in sub])
        for (piece, offset), n in zip(sub, counts):
            push(piece, pos + offset, n)

    for (text, pos), n in zip(first, count_tokens([text for text, _ in first])):
        push(text, pos, n)
    return results


def _clamp_overlap(value: float, max_chars: int) -> int:
    if max_chars <= 1:
        return 0
    return max(0, min(max_chars - 1, math.floor(value)))


# QMD's markdown title extractor (extractTitle for .md): the first "#" or "##" heading.
_MD_TITLE = re.compile(r"^##?\s+(.+)$", re.MULTILINE)
_MD_SECOND = re.compile(r"^##\s+(.+)$", re.MULTILINE)


def markdown_title(content: str) -> str | None:
    match = _MD_TITLE.search(content)
    if not match:
        return None
    title = match.group(1).strip()
    if title in ("📝 Notes", "Notes"):
        second = _MD_SECOND.search(content)
        if second and second.group(1):
            return second.group(1).strip()
    return title
