"""Near-duplicate texts: word shingles, MinHash LSH band keys, verification and grouping.

Pure functions. A text's features are the set of its word 5-grams ("shingles", case and
punctuation ignored): different stories written from one newsroom's vocabulary share single
words and short phrases, but a copy shares most of its 5-grams. Candidates come from an index
of MinHash LSH band keys (datasketch's MinHash; each band of `ROWS` hash values is one 64-bit
key, stored in an indexed table): texts with high shingle overlap share a key with high
probability, different texts almost never. A candidate is only a candidate: `verify` compares
the two texts' shingles directly, and only a verified pair is linked. Groups are one level deep
and a text joins a group only when verified against the group's original (`choose_group`), so
unrelated stories never chain through a member they merely resemble.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ingest import unspaced
from ingest.identity import word_count

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_WORDS = 5  # word n-grams: long enough that shared phrasing is not shared text
NUM_PERM = 128  # MinHash permutations ...
ROWS = 4  # ... cut into bands of this many values: one index key per band
BANDS = NUM_PERM // ROWS
MIN_SHARE = 0.5  # the shorter text must be at least half the longer (not a teaser or excerpt)

# a word: a run of letters and digits, or one character of a script written without spaces
# (Chinese, Japanese, Thai: counted as words the same way by identity.word_count)
_WORD = re.compile(f"{unspaced.CLASS}|\\w+")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When two texts count as near-duplicates (`near_duplicate_*` settings)."""

    min_similarity: float = 0.6  # share of the shorter text's shingles found in the longer
    min_words: int = 100  # shorter texts never match by text (teasers, captions, briefs)


@dataclass(frozen=True, slots=True)
class Features:
    """What near-duplicate detection knows of a text: its shingles and its length in words."""

    shingles: frozenset[str]
    words: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A group original a text might join, with its features (the text it verifies against)."""

    article_id: int
    features: Features


@dataclass(frozen=True, slots=True)
class Grouping:
    """Where a text goes: the original it joins (or None) with the verified similarity, and
    groups proven one story (original verified against original): `merges` maps each later
    original to the earliest one."""

    original: int | None
    similarity: float | None
    merges: dict[int, int] = field(default_factory=dict)


def words(text: str) -> list[str]:
    """The text's words, case-folded (NFKC): punctuation, spacing and case do not count; in
    unspaced scripts each character is a word (shingles are then 5-character runs)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def features(text: str) -> Features:
    """The text's word 5-grams (one shingle of all its words when shorter) and word count."""
    tokens = words(text)
    n = SHINGLE_WORDS
    grams = {" ".join(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))}
    grams.discard("")
    return Features(frozenset(grams), word_count(text))


def band_keys(feats: Features) -> tuple[int, ...]:
    """The text's MinHash LSH keys, one signed 64-bit integer per band (what SQL holds).

    Two texts whose shingle sets have Jaccard similarity s share at least one key with
    probability 1 - (1 - s**ROWS)**BANDS: 0.98 at s = 0.6, 0.87 at 0.5, 0.004 at 0.05."""
    if not feats.shingles:
        return ()
    minhash = _new_minhash()
    minhash.update_batch([s.encode() for s in feats.shingles])
    values = minhash.hashvalues.astype("<u8")
    return tuple(
        int.from_bytes(
            hashlib.blake2b(
                band.to_bytes(2, "little") + values[band * ROWS : (band + 1) * ROWS].tobytes(),
                digest_size=8,
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    )


@cache
def _template() -> MinHash:
    """The seeded permutations, drawn once (a MinHash draws them anew); datasketch is imported
    on first use: it brings numpy and scipy, which reading commands never need."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1)


def _new_minhash() -> MinHash:
    from datasketch import MinHash

    template = _template()
    return MinHash(num_perm=NUM_PERM, permutations=template.permutations, scheme=template.scheme)


def verify(a: Features, b: Features, thresholds: Thresholds) -> float | None:
    """The similarity of two texts when one is a copy of the other, else None.

    Similarity is containment: the share of the shorter text's shingles that the longer one has
    (1.0 = every 5-gram of it is in the other), so a copy that adds or cuts a few paragraphs,
    or wraps the story in its own boilerplate, still scores high. Both texts need `min_words`,
    and the shorter needs at least half the longer's shingles (`MIN_SHARE`): a teaser or an
    excerpt is contained in its article but is not a copy of it.
    """
    if min(a.words, b.words) < thresholds.min_words:
        return None
    small, large = sorted((a.shingles, b.shingles), key=len)
    if not small or len(small) < MIN_SHARE * len(large):
        return None
    score = len(small & large) / len(small)
    return round(score, 4) if score >= thresholds.min_similarity else None


def choose_group(
    mine: Features, originals: Sequence[Candidate], thresholds: Thresholds
) -> Grouping:
    """The group a text joins among candidate groups (given by their originals, earliest first).

    The text is verified against each original, never against other members: a text close to a
    member but not to its original stays out. When it verifies against several originals, those
    groups are one story only if their originals verify against each other; then the later ones
    merge into the earliest. Otherwise the text joins the closest original (ties: earliest).
    """
    scores = {
        c.article_id: score
        for c in originals
        if (score := verify(mine, c.features, thresholds)) is not None
    }
    if not scores:
        return Grouping(None, None)
    joined = [c for c in originals if c.article_id in scores]
    first = min(joined, key=lambda c: c.article_id)
    merges = {
        c.article_id: first.article_id
        for c in joined
        if c is not first and verify(first.features, c.features, thresholds) is not None
    }
    best = max(scores, key=lambda i: (scores[i], -i))
    target = first.article_id if best in merges else best
    return Grouping(target, scores[target], merges)


def may_fold_by_hash(
    words_count: int,
    thresholds: Thresholds,
    *,
    titles: tuple[str | None, str | None],
    links: tuple[str | None, str | None],
) -> bool:
    """Whether two items with the same text hash are one article.

    An equal text identifies a story only when it is long enough (`min_words`): teasers such as
    "Read more..." or "Continue reading" are the same for every item of a site. A short text
    still folds when the two items also agree on title and link (both absent counts as agree)."""
    if words_count >= thresholds.min_words:
        return True
    title_a, title_b = ((t or "").strip() for t in titles)
    return bool(title_a) and title_a == title_b and links[0] == links[1]
