"""Word-level differences between two versions of an article, as unified-diff-like text.

Paragraphs are compared first (a hunk per changed run of paragraphs, `@@ ¶N @@`), then words
within a changed paragraph, marked inline git-style: `[-removed-]{+added+}`. Unchanged stretches
of a paragraph are cut to a few words of context, so an edit in a long article reads at a glance.
"""

from __future__ import annotations

from difflib import SequenceMatcher

CONTEXT_WORDS = 8


def word_diff(old: str, new: str, *, context: int = CONTEXT_WORDS) -> str:
    """One paragraph's (or title's) words, with removed and added words marked inline."""
    a, b = old.split(), new.split()
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    parts: list[str] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            words = a[i1:i2]
            first, last = index == 0, index == len(opcodes) - 1
            if len(words) > 2 * context and not (first and last):
                head = [] if first else words[:context]
                tail = [] if last else words[-context:]
                words = [*head, "…", *tail]
            parts.append(" ".join(words))
            continue
        removed = "[-" + " ".join(a[i1:i2]) + "-]" if i2 > i1 else ""
        added = "{+" + " ".join(b[j1:j2]) + "+}" if j2 > j1 else ""
        parts.append(removed + added)
    return " ".join(part for part in parts if part)


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
    if (old_title or "") != (new_title or ""):
        lines += ["@@ title @@", word_diff(old_title or "", new_title or "")]
    a = [p for p in old_text.splitlines() if p.strip()]
    b = [p for p in new_text.splitlines() if p.strip()]
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        lines.append(f"@@ -¶{i1 + 1},{i2 - i1} +¶{j1 + 1},{j2 - j1} @@")
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        lines += [word_diff(a[i1 + k], b[j1 + k]) for k in range(pairs)]
        lines += ["- " + paragraph for paragraph in a[i1 + pairs : i2]]
        lines += ["+ " + paragraph for paragraph in b[j1 + pairs : j2]]
    if len(lines) == 2:
        lines.append("(no differences)")
    return "\n".join(lines)
