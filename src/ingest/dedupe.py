"""Near-duplicate texts: 64-bit SimHash fingerprints, their index bands, and the decision.

Pure functions. A fingerprint is trafilatura's Charikar SimHash of the normalized, lower-cased
text; two texts whose fingerprints differ in few bits share most of their words. The archive
stores each fingerprint as a signed 64-bit integer (what SQL integers hold) and as four indexed
16-bit bands. Candidates are the articles sharing at least one band: four index lookups, never a
scan. By pigeonhole every fingerprint within 3 bits shares a band; one farther away (up to the
threshold) is found when its differing bits leave some band intact, and a copy of a story found
by any earlier copy joins the same group (see docs/dedupe.md for the measured recall).
"""

from __future__ import annotations

from dataclasses import dataclass

from trafilatura.deduplication import Simhash

from ingest.identity import normalize_text

BITS = 64
BANDS = 4
BAND_BITS = BITS // BANDS
BAND_MASK = (1 << BAND_BITS) - 1


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When two texts count as near-duplicates (`near_duplicate_*` settings)."""

    max_distance: int = 6
    min_words: int = 100


@dataclass(frozen=True, slots=True)
class TextPrint:
    """What near-duplicate detection knows of a text: its fingerprint and its length."""

    simhash: int  # signed 64-bit
    words: int


def fingerprint(text: str) -> int:
    """The text's SimHash as a signed 64-bit integer (case and spacing do not count)."""
    return to_signed(Simhash(normalize_text(text).lower(), length=BITS).hash)


def text_print(text: str) -> TextPrint:
    return TextPrint(fingerprint(text), len(text.split()))


def to_signed(value: int) -> int:
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def to_unsigned(value: int) -> int:
    return value & ((1 << BITS) - 1)


def bands(simhash: int) -> tuple[int, ...]:
    """The four 16-bit slices of a fingerprint, lowest first: the indexed columns."""
    value = to_unsigned(simhash)
    return tuple((value >> (BAND_BITS * i)) & BAND_MASK for i in range(BANDS))


def distance(a: int, b: int) -> int:
    """Hamming distance between two fingerprints."""
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()


def similarity(a: int, b: int) -> float:
    """Share of equal fingerprint bits, 0.0 to 1.0."""
    return (BITS - distance(a, b)) / BITS


def near_duplicate(a: TextPrint, b: TextPrint, thresholds: Thresholds) -> float | None:
    """The similarity of `a` and `b` when they are near-duplicates, else None.

    Short texts (teasers, summaries, captions) share too few words for a fingerprint to tell
    "the same story" from "the same topic", so under `min_words` they never match by text.
    """
    if min(a.words, b.words) < thresholds.min_words:
        return None
    if distance(a.simhash, b.simhash) > thresholds.max_distance:
        return None
    return similarity(a.simhash, b.simhash)
