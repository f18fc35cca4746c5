"""Scripts written without spaces between words: Chinese, Japanese, Thai (and Korean, whose
words carry their particles). Word splitting on spaces fails for them twice: a search index
that splits on spaces sees a whole sentence as one word, and a word count sees a page as a
dozen words. Both the index (a trigram index beside the word index) and the count (one per
character, as word processors count East Asian text) ask this module which text is which.
"""

from __future__ import annotations

import re

# Thai, Hangul Jamo, CJK punctuation (not the ideographic space), kana, Bopomofo, Hangul
# compatibility Jamo, CJK Unified Ideographs (with extension A), Hangul syllables, CJK
# compatibility ideographs, halfwidth kana.
RANGES = (
    ("\u0e00", "\u0e7f"),
    ("\u1100", "\u11ff"),
    ("\u3001", "\u30ff"),
    ("\u3100", "\u312f"),
    ("\u3130", "\u318f"),
    ("\u3400", "\u4dbf"),
    ("\u4e00", "\u9fff"),
    ("\uac00", "\ud7af"),
    ("\uf900", "\ufaff"),
    ("\uff66", "\uff9f"),
)
CLASS = "[" + "".join(f"{low}-{high}" for low, high in RANGES) + "]"
_UNSPACED = re.compile(CLASS)


def has_unspaced(text: str) -> bool:
    """Whether `text` holds any character of a script written without spaces."""
    return _UNSPACED.search(text) is not None


def count_words(text: str) -> int:
    """Words separated by spaces, each character of an unspaced script counting as one."""
    spaced, characters = _UNSPACED.subn(" ", text)
    return characters + len(spaced.split())
