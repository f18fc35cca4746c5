"""Word-level differences between two versions of an article, as unified-diff-like text.

Paragraphs are compared first (a hunk per changed run of paragraphs, `@@ ¶N @@`), then words
within a changed paragraph, marked inline git-style: `[-removed-]{+added+}`. Unchanged stretches
of a paragraph are cut to a few words of context, so an edit in a long article reads at a glance.
The same comparison is available as structured hunks (`diff_hunks`), which the web page renders
with <del>/<ins> so archived text containing `[-` can never be mistaken for a marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

CONTEXT_WORDS = 8

Op = Literal["equal", "delete", "insert"]
Segment = tuple[Op, str]  # a run of words, kept, removed or added
Line = list[Segment]  # one paragraph (or the title) of a hunk


@dataclass(frozen=True, slots=True)
class Hunk:
    """A changed run of paragraphs (or the title): its header and its marked lines."""

    header: str  # "title" or "-¶1,2 +¶1,3"
    lines: list[Line]


def word_segments(old: str, new: str, *, context: int = CONTEXT_WORDS) -> Line:
    """One paragraph's (or title's) words as kept, removed and added runs, long kept runs cut
    to `context` words around the changes."""
    a, b = old.split(), new.split()
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    segments: Line = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            words = a[i1:i2]
            first, last = index == 0, index == len(opcodes) - 1
            if len(words) > 2 * context and not (first and last):
                head = [] if first else words[:context]
                tail = [] if last else words[-context:]
                words = [*head, "…", *tail]
            if words:
                segments.append(("equal", " ".join(words)))
            continue
        if i2 > i1:
            segments.append(("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            segments.append(("insert", " ".join(b[j1:j2])))
    return segments


def word_diff(old: str, new: str, *, context: int = CONTEXT_WORDS) -> str:
    """One paragraph's (or title's) words, with removed and added words marked inline."""
    return _as_text(word_segments(old, new, context=context))


def _as_text(line: Line) -> str:
    parts: list[str] = []
    for op, words in line:
        if op == "equal":
            parts.append(" " + words)
        elif op == "delete":
            parts.append(" [-" + words + "-]")
        elif parts and parts[-1].endswith("-]"):  # an insert right after its delete: glued
            parts.append("{+" + words + "+}")
        else:
            parts.append(" {+" + words + "+}")
    return "".join(parts).strip()


def diff_hunks(
    old_title: str | None, old_text: str, new_title: str | None, new_text: str
) -> list[Hunk]:
    """The whole difference between two versions: the title, then each changed paragraph run.
    A paragraph only in the old version is one `delete` segment, one only in the new `insert`."""
    hunks: list[Hunk] = []
    if (old_title or "") != (new_title or ""):
        hunks.append(Hunk("title", [word_segments(old_title or "", new_title or "")]))
    a = [p for p in old_text.splitlines() if p.strip()]
    b = [p for p in new_text.splitlines() if p.strip()]
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        lines = [word_segments(a[i1 + k], b[j1 + k]) for k in range(pairs)]
        lines += [[("delete", paragraph)] for paragraph in a[i1 + pairs : i2]]
        lines += [[("insert", paragraph)] for paragraph in b[j1 + pairs : j2]]
        hunks.append(Hunk(f"-¶{i1 + 1},{i2 - i1} +¶{j1 + 1},{j2 - j1}", lines))
    return hunks


def unified_word_diff(
    old_title: str | None,
    old_text: str,
    new_title: str | None,
    new_text: str,
    *,
    old_label: str,
    new_label: str,
) -> str:
    """The whole difference between two versions: header, title, then changed paragraphs."""
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    for hunk in diff_hunks(old_title, old_text, new_title, new_text):
        lines.append(f"@@ {hunk.header} @@")
        for line in hunk.lines:
            if hunk.header != "title" and len(line) == 1 and line[0][0] != "equal":
                sign = "-" if line[0][0] == "delete" else "+"
                lines.append(f"{sign} {line[0][1]}")
            else:
                lines.append(_as_text(line))
    if len(lines) == 2:
        lines.append("(no differences)")
    return "\n".join(lines)
