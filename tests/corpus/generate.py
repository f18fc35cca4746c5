"""Build the labelled dedupe corpus from the base stories, deterministically.

Each document is what the pipeline would see of one page or feed item: a URL, the page's
rel=canonical, and the extracted text; `group` is the truth label (documents of one group are
the same story), `kind` says how the variant was made. Run `python -m tests.corpus.generate`
to rewrite `corpus.jsonl`; a test checks the file is what this script produces.

Variants of each story: the original; a copy behind a tracking URL; syndicated copies on other
sites with their own boilerplate (and one declaring rel=canonical to the original); copies with
1, 3 or 6 light word edits; a correction appended; an update appended; a syndicated, edited and
corrected copy; the feed's teaser of the original (same link); and, labelled as stories of their
own because they are not copies, an aggregator's teaser and a two-paragraph excerpt elsewhere.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.corpus.stories import STORIES

CORPUS = Path(__file__).parent / "corpus.jsonl"
ORIGIN = "https://pandaily.example"
SYNDICATORS = (
    (
        "https://asiatechwire.example",
        "Republished from Pandaily with permission.",
        "AsiaTechWire is an independent wire service. Terms of use apply to republished content.",
    ),
    (
        "https://technode.example",
        "This article originally appeared on Pandaily, a partner of TechNode.",
        "Sign up for our daily newsletter to get the top China tech stories in your inbox.",
    ),
    (
        "https://kr-asia.example",
        "Editor's note: this story is part of our content partnership with Pandaily.",
        "Reporting by the Pandaily newsroom; editing by the KrASIA desk.",
    ),
)
TRACKING = "?utm_source=twitter&utm_medium=social&utm_campaign=morning&fbclid=IwAR0x9"
SYNONYMS = {
    "said": "stated",
    "company": "firm",
    "new": "fresh",
    "first": "initial",
    "several": "some",
    "also": "additionally",
    "which": "that",
    "will": "would",
    "more": "over",
    "about": "around",
}
FILLERS = ("also", "now", "reportedly", "already", "still")


@dataclass(frozen=True)
class Document:
    id: str
    url: str
    canonical: str | None  # the page's rel=canonical
    via: str  # "page": the page is fetched and extracted; "feed": a feed item only
    title: str
    text: str
    group: str  # truth: documents of one group are copies of one story
    kind: str


def light_edit(paragraphs: tuple[str, ...], edits: int, rng: random.Random) -> tuple[str, ...]:
    """`edits` word-level changes (a synonym, a dropped word, an inserted filler)."""
    words = [p.split() for p in paragraphs]
    for _ in range(edits):
        para = rng.randrange(len(words))
        pos = rng.randrange(len(words[para]))
        word = words[para][pos]
        operation = rng.choice(("synonym", "drop", "insert"))
        if operation == "synonym" and word.lower() in SYNONYMS:
            words[para][pos] = SYNONYMS[word.lower()]
        elif operation == "drop" and len(words[para]) > 1:
            del words[para][pos]
        else:
            words[para].insert(pos, rng.choice(FILLERS))
    return tuple(" ".join(w) for w in words)


def syndicated(paragraphs: tuple[str, ...], index: int) -> tuple[str, ...]:
    _, header, footer = SYNDICATORS[index]
    return (header, *paragraphs, footer)


def story_documents(key: str, rng: random.Random) -> list[Document]:
    title, paragraphs = STORIES[key]
    url = f"{ORIGIN}/2018/07/{key}/"

    def doc(
        kind: str,
        body: tuple[str, ...],
        *,
        at: str | None = None,
        canonical: str | None = None,
        via: str = "page",
        group: str = key,
    ) -> Document:
        where = at or url
        return Document(
            f"{key}/{kind}", where, canonical or where, via, title, "\n".join(body), group, kind
        )

    def elsewhere(index: int, kind: str) -> str:
        return f"{SYNDICATORS[index][0]}/news/{key}-{kind}.html"

    correction = (
        "Correction: an earlier version of this story misstated the date of the announcement. "
        "It was made a day earlier than reported."
    )
    update = (
        "Update: the company confirmed the details in a statement on its website after this "
        "story was published, and declined to comment further."
    )
    first = paragraphs[0].split(". ")[0] + "."
    return [
        doc("original", paragraphs),
        doc("tracking-url", paragraphs, at=url + TRACKING, canonical=url),
        doc("syndicated-0", syndicated(paragraphs, 0), at=elsewhere(0, "syndicated")),
        doc("syndicated-1", syndicated(paragraphs, 1), at=elsewhere(1, "syndicated")),
        doc(
            "syndicated-canonical",
            syndicated(paragraphs, 2),
            at=elsewhere(2, "syndicated"),
            canonical=url,
        ),
        doc("edit-1", light_edit(paragraphs, 1, rng), at=elsewhere(0, "edit-1")),
        doc("edit-3", light_edit(paragraphs, 3, rng), at=elsewhere(1, "edit-3")),
        doc("edit-6", light_edit(paragraphs, 6, rng), at=elsewhere(2, "edit-6")),
        doc("correction", (*paragraphs, correction), at=elsewhere(0, "correction")),
        doc("update", (*paragraphs, update), at=elsewhere(1, "update")),
        doc(
            "syndicated-edited-corrected",
            syndicated((*light_edit(paragraphs, 3, rng), correction), 1),
            at=elsewhere(1, "edited"),
        ),
        doc("feed-teaser", (first,), via="feed"),
        doc(
            "aggregator-teaser",
            (paragraphs[0], "Read the full story at Pandaily."),
            at=f"https://aggregator.example/s/{key}",
            group=f"{key}/aggregator-teaser",
        ),
        doc(
            "excerpt",
            paragraphs[:2],
            at=f"https://digest.example/{key}/excerpt",
            group=f"{key}/excerpt",
        ),
    ]


def build() -> list[Document]:
    """Every story's documents, shuffled into one arrival order (fixed seeds: reproducible)."""
    documents = [
        document for key in STORIES for document in story_documents(key, random.Random(key))
    ]
    random.Random("arrival order").shuffle(documents)
    return documents


def load() -> list[Document]:
    return [Document(**json.loads(line)) for line in CORPUS.read_text("utf-8").splitlines()]


def dump(documents: list[Document]) -> str:
    return "".join(json.dumps(asdict(d), ensure_ascii=False) + "\n" for d in documents)


if __name__ == "__main__":
    CORPUS.write_text(dump(build()), encoding="utf-8")
    print(f"{len(build())} documents written to {CORPUS}")
