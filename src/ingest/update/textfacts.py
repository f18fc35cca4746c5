"""What the archive stores about a text besides the text (its hash, length, near-duplicate
features and index keys, its compressed revision blob), computed where the CPU is free.

A page's text gets its facts in the worker process that extracted it, so the writer thread
only writes; texts that appear on the writer's side (a feed's text standing in) get them there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.dedupe import Features, band_keys, features
from ingest.identity import content_hash
from ingest.update.packed import PackedBlob, pack


@dataclass(frozen=True, slots=True)
class TextFacts:
    text: str
    content_hash: str  # identity.content_hash: equal after normalization
    features: Features  # shingles and word count (dedupe)
    keys: tuple[int, ...]  # MinHash LSH band keys (the near-duplicate index)
    blob: PackedBlob  # the text, hashed and compressed for its revision

    @property
    def words(self) -> int:
        return self.features.words


def text_facts(text: str) -> TextFacts:
    feats = features(text)
    return TextFacts(text, content_hash(text), feats, band_keys(feats), pack(text.encode()))
