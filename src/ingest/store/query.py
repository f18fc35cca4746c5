"""The one search syntax, parsed into a small tree both engines compile (pure, no SQL).

    wind turbine        both words (AND is implicit)
    "wind turbine"      the phrase: these words, in this order, next to each other
    wind OR solar       either word (OR in capitals; it binds the words on each side)
    turbine -offshore   the first word, not the second (also -"a phrase")
    turb*               words starting with `turb` (at least MIN_PREFIX letters before *)
    滨江公园            Chinese, Japanese, Thai, Korean: found anywhere inside running text

Letters are compared without case and (on SQLite) without accents; punctuation inside a word
splits it into a phrase (`e-mail` is "e mail"). Nothing a user types is query syntax of the
database: the tree holds only normalized words, so a stray quote, a NUL byte, `NEAR(` or
`title:x` can neither fail nor change the query. The cost of a query is bounded here first:
at most MAX_TERMS terms and MAX_WORDS words, prefixes of at least MIN_PREFIX characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.errors import UsageError
from ingest.unspaced import has_unspaced

MAX_TERMS = 12  # words, phrases and alternatives, excluded ones included
MAX_WORDS = 32  # words in all terms together (phrases count each word)
MIN_PREFIX = 3  # `ab*` would expand to a large part of the vocabulary
MAX_QUERY_CHARS = 2000

_ITEM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase: `words` normalized, the last a prefix when `prefix`. A term in an
    unspaced script has `substring` instead: the text to find inside running text."""

    raw: str  # as typed, without the `-` or quotes around it
    words: tuple[str, ...] = ()
    prefix: bool = False
    substring: str | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """Every group of `all_of` must match (one of its terms); no term of `none_of` may."""

    all_of: tuple[tuple[Term, ...], ...]
    none_of: tuple[Term, ...] = ()

    def terms(self) -> tuple[Term, ...]:
        return tuple(term for group in self.all_of for term in group)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (what the SQLite index compares)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> tuple[str, ...]:
    """The index's words of `text`: runs of letters and digits, folded."""
    return tuple(fold(word) for word in _WORD.findall(text))


def lower_words(text: str) -> tuple[str, ...]:
    """The words of `text` lower-cased but with their accents (what PostgreSQL compares)."""
    return tuple(word.lower() for word in _WORD.findall(text))


def _term(text: str, *, phrase: bool) -> Term | None:
    prefix = not phrase and text.endswith("*")
    body = text.rstrip("*") if prefix else text
    if has_unspaced(body):
        found = " ".join(fold(part) for part in _WORD.findall(body))
        return Term(raw=text, substring=found) if found else None
    words = words_of(body)
    if not words:
        return None
    if prefix and len(words[-1]) < MIN_PREFIX:
        raise UsageError(f"prefix too short: {text!r} (at least {MIN_PREFIX} letters before the *)")
    return Term(raw=text, words=words, prefix=prefix)


def parse(text: str) -> Query:
    """The query in `text`; UsageError (one line) when it is empty, excludes only, or too big."""
    if len(text) > MAX_QUERY_CHARS:
        raise UsageError(f"search query too long (at most {MAX_QUERY_CHARS} characters)")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    previous = ""  # what the last item was: "word", "excluded", "OR" after a word, or ""
    for match in _ITEM.finditer(text.replace("\x00", " ")):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare == "OR":
            previous = "OR" if previous == "word" else ""  # a dangling OR means nothing
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        term = _term(quoted if bare is None else bare, phrase=bare is None)
        if term is None:
            continue
        if negated:
            excluded.append(term)
            previous = "excluded"
            continue
        if previous == "OR":
            groups[-1].append(term)
        else:
            groups.append([term])
        previous = "word"
    query = Query(tuple(tuple(group) for group in groups), tuple(excluded))
    _check(query)
    return query


def _check(query: Query) -> None:
    terms = [*query.terms(), *query.none_of]
    if not terms:
        raise UsageError("empty search query")
    if not query.all_of:
        raise UsageError("nothing to find: a query needs a word that is not excluded (-word)")
    if len(terms) > MAX_TERMS:
        raise UsageError(f"too many terms in the search query (at most {MAX_TERMS})")
    if sum(max(1, len(term.words)) for term in terms) > MAX_WORDS:
        raise UsageError(f"too many words in the search query (at most {MAX_WORDS})")
