"""A harder labelled dedupe corpus: one newsroom's many different stories, and true copies.

Every story is written from the same sentence templates, names, places and site boilerplate,
so different stories share words, phrases and whole boilerplate lines (what a news archive is
full of) but no sentence of substance; copies of a story share most of its text. Deterministic
(fixed seeds), built at test time: `python -m tests.corpus.newsroom` prints its make-up.

Per story (the truth label `group` is the story): the original on its site with that site's
boilerplate, and for some stories: copies on other sites with their boilerplate, with 1–8 light
word edits, with one or two paragraphs cut, with an editor's note and added paragraphs, and all
of these combined. Labelled as documents of their own (they must not match): a translation
(simulated: every lower-case word replaced through a fixed dictionary, names and numbers kept),
a short teaser ("… Read more..."), and a two-paragraph excerpt on an aggregator.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter

from tests.corpus.generate import Document, light_edit

SITES = {
    "https://straitsdaily.example": (
        "Straits Daily | Business | Technology",
        "Subscribe to Straits Daily for the latest news on business and technology in Asia. "
        "Copyright Straits Daily. All rights reserved.",
    ),
    "https://asiatechwire.example": (
        "AsiaTechWire: independent reporting on technology across Asia.",
        "AsiaTechWire is an independent wire service. Terms of use apply to republished "
        "content. Follow us for the latest news on technology in Asia.",
    ),
    "https://lionbeat.example": (
        "LionBeat Tech Desk",
        "Sign up for the LionBeat newsletter to get the top technology stories in your inbox "
        "every morning. Copyright LionBeat. All rights reserved.",
    ),
    "https://pandaily.example": (
        "Pandaily: China tech, explained.",
        "Pandaily covers the latest news on technology in China and Asia. Subscribe to our "
        "newsletter for the top stories every morning.",
    ),
    "https://kr-asia.example": (
        "KrASIA | Technology | Business",
        "Reporting by the KrASIA newsroom. Follow us for the latest news on technology "
        "and business in Asia.",
    ),
    "https://techinasia.example": (
        "Tech in Asia - Connecting Asia's startup ecosystem",
        "Tech in Asia is the largest community of startups in Asia. Subscribe to our "
        "newsletter for the latest news on technology in Asia.",
    ),
}
AGGREGATOR = "https://aggregator.example"
COMPANIES = (
    "SenseTime", "Megvii", "Alibaba", "Tencent", "Baidu", "ByteDance", "Grab", "Sea Group",
    "Singtel", "Yitu", "iFlytek", "Gojek",
)  # fmt: skip
PEOPLE = (
    "Tang Xiao'ou", "Xu Li", "Ong Ye Kung", "Anthony Tan", "Forrest Li", "Zhang Yiming",
    "Robin Li", "Pony Ma", "Daniel Zhang", "Lee Kai-fu", "Leong Wai Mun", "Chen Ning",
)  # fmt: skip
CITIES = (
    "Singapore", "Beijing", "Shanghai", "Shenzhen", "Hong Kong", "Jakarta", "Kuala Lumpur",
    "Tokyo", "Bangkok", "Hangzhou",
)  # fmt: skip
AREAS = (
    "computer vision", "facial recognition", "autonomous driving", "smart retail",
    "medical imaging", "speech recognition", "cloud computing", "online payments",
    "ride hailing", "chip design",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
INVESTORS = (
    "Temasek", "SoftBank", "Sequoia China", "GIC", "Hillhouse Capital", "Qualcomm Ventures",
    "Tiger Global", "the Economic Development Board",
)  # fmt: skip
TOPICS: dict[str, tuple[str, ...]] = {
    "funding": (
        "{company} has raised {amount} in a new funding round led by {investor}, the company "
        "said on {day}.",
        "The round values {company} at about {big}, according to two people familiar with "
        "the matter who asked not to be named.",
        "{investor} and {investor2} also took part in the round, which comes {n} months after "
        "the last one.",
        "{company} plans to spend the money on research in {area} and on hiring in {city}.",
        "Investors have poured {big} into {area} start-ups in {city} this year, up from "
        "{amount} a year earlier.",
        "The company did not say whether it plans to list its shares in {city}.",
    ),
    "partnership": (
        "{company} and {partner} have signed an agreement to work together on {area}, the two "
        "companies said in a joint statement on {day}.",
        "Under the agreement {partner} will use {company}'s technology in {n} of its products "
        "by the end of next year.",
        "Neither company disclosed the value of the deal, which analysts put at about {amount}.",
        "{person} said the partnership would help {company} reach customers in {city} and {city2}.",
        "The two companies first worked together on a pilot project in {city2} {n} years ago.",
        "{partner} has signed similar agreements with {n2} other firms working on {area}.",
    ),
    "lab": (
        "{company} will open a research laboratory in {city} that will study {area}, the "
        "company announced on {day}.",
        "The lab will employ about {people} researchers in its first year and will work with "
        "universities in {city} and {city2}.",
        "{person} said the lab would publish its work openly and share its patents with its "
        "university partners.",
        "The first projects at the lab will look at {area} and at {area2}.",
        "{city} has offered grants that cover part of the salaries of researchers hired "
        "locally, and {n} foreign firms have used them to open labs.",
        "Students who join the lab will be able to spend a semester at {company} in {city2}.",
    ),
    "launch": (
        "{company} has launched a new service for {area} in {city}, the company said on {day}.",
        "The service will first be available to {people} customers and will reach the rest of "
        "the country within {n} months.",
        "{person} told reporters that the service had been tested for {n2} months in {city2}.",
        "The launch puts {company} in direct competition with {partner}, which has offered a "
        "similar service since {year}.",
        "Prices start at {small} a month, about {n} per cent below those of its rivals.",
        "Analysts said the launch showed how quickly {area} is becoming a mass market in {city}.",
    ),
    "regulation": (
        "Regulators in {city} have opened an inquiry into how {company} handles the data it "
        "collects for {area}, the authorities said on {day}.",
        "The inquiry will look at whether {company} kept data for longer than the law "
        "allows, and could lead to a fine of up to {amount}.",
        "{company} said it was cooperating fully with the regulators and that it had broken "
        "no rules.",
        "{person} said the inquiry was part of a wider review of {area} that began in {year}.",
        "Lawmakers in {city2} are drafting similar rules, which could take effect within {n} "
        "months.",
        "The rules would require companies to delete data on request within {n2} days.",
    ),
    "hiring": (
        "{company} plans to hire {people} engineers in {city} over the next {n} years, the "
        "company said on {day}.",
        "Most of the new staff will work on {area}, and about a third will be recent graduates.",
        "{person} said {company} had struggled to find enough engineers in {city2} and would "
        "move part of its research team.",
        "The company employs about {people2} people worldwide, {n} per cent of them in research.",
        "Salaries for engineers working on {area} in {city} have risen by {n2} per cent since "
        "{year}.",
        "{partner} and {company} have both opened offices in the same business park in {city}.",
    ),
}
GENERAL = (
    "{person}, who founded {company} in {year}, said the company was looking for partners in "
    "{city}.",
    "Shares of {partner} rose {n} per cent in {city2} trading after the announcement.",
    "{company} did not reply to a request for comment on {day}.",
    "The company has offices in {city}, {city2} and {city3}, and employs about {people} people.",
    "{company} was founded in {year} and counts {investor} among its investors.",
    "Analysts at {investor} said the move showed that {company} was serious about {area}.",
    "Competition in {area} has grown in {city} since {year}, when {partner} entered the market.",
    "{person} has said that {company} wants to be the leader in {area} within {n} years.",
    "The announcement comes {n} weeks after {partner} said it would expand in {city2}.",
    "Earlier this year {company} said its revenue from {area} had grown {n2} per cent.",
    "{company} is one of {n2} companies that the government in {city} has named as national "
    "champions in {area}.",
    "A spokesperson for {partner} declined to comment on the news.",
    "The government of {city} has said it wants {area} to make up {n} per cent of the economy "
    "by {year2}.",
    "In {year}, {company} opened its first office outside {city2}, in {city3}.",
)
TRANSLATED = {  # a fixed dictionary: a simulated translation keeps only names and numbers
    "the": "die", "a": "eine", "of": "von", "and": "und", "in": "in", "to": "zu",
    "has": "hat", "have": "haben", "said": "sagte", "will": "wird", "company": "Firma",
    "on": "am", "for": "für", "its": "seine", "at": "bei", "that": "dass", "with": "mit",
    "by": "durch", "about": "etwa", "new": "neue", "per": "pro", "cent": "Prozent",
    "year": "Jahr", "years": "Jahre", "months": "Monate", "months.": "Monate.",
}  # fmt: skip
EDITOR_NOTE = "Editor's note: this story has been updated with more background on the company."


def _fill(template: str, story: dict[str, str], rng: random.Random) -> str:
    """A template with the story's names and fresh numbers: no two stories share a sentence."""
    values = dict(story)
    values |= {
        "n": str(rng.randint(2, 9)),
        "n2": str(rng.randint(10, 60)),
        "people": str(rng.randrange(40, 900, 10)),
        "people2": f"{rng.randint(2, 30)},{rng.randrange(0, 1000, 100):03d}",
        "amount": f"US${rng.randrange(20, 900, 5)} million",
        "big": f"US${rng.randint(1, 12)}.{rng.randint(1, 9)} billion",
        "small": f"S${rng.randint(5, 49)}.90",
        "year": str(rng.randint(2008, 2017)),
        "year2": str(rng.randint(2025, 2035)),
    }
    return template.format(**values)


def _story(index: int) -> tuple[str, str, tuple[str, ...]]:
    """(site, title, paragraphs) of story `index`: a topic's sentences and general ones,
    shuffled, in 7 paragraphs of 2–3 sentences."""
    rng = random.Random(f"story {index}")
    topic = rng.choice(sorted(TOPICS))
    company, partner = rng.sample(COMPANIES, 2)
    city, city2, city3 = rng.sample(CITIES, 3)
    area, area2 = rng.sample(AREAS, 2)
    investor, investor2 = rng.sample(INVESTORS, 2)
    names = {
        "company": company, "partner": partner, "person": rng.choice(PEOPLE), "city": city,
        "city2": city2, "city3": city3, "area": area, "area2": area2, "investor": investor,
        "investor2": investor2, "day": rng.choice(DAYS),
    }  # fmt: skip
    sentences = [*TOPICS[topic], *rng.sample(GENERAL, 12)]
    lead, rest = sentences[0], sentences[1:]
    rng.shuffle(rest)
    filled = [_fill(s, names, rng) for s in (lead, *rest)]
    paragraphs, at = [], 0
    while at < len(filled) and len(paragraphs) < 7:
        size = rng.choice((2, 3))
        paragraphs.append(" ".join(filled[at : at + size]))
        at += size
    title = f"{company} {topic}: {area} in {city}"
    return sorted(SITES)[index % len(SITES)], title, tuple(paragraphs)


def _translate(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    def word(w: str) -> str:
        if w in TRANSLATED:
            return TRANSLATED[w]
        if not w[:1].islower():
            return w  # names, numbers
        return "x" + hashlib.sha256(w.encode()).hexdigest()[:6]  # a word of another language

    return tuple(" ".join(word(w) for w in p.split()) for p in paragraphs)


def _page(site: str, paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    header, footer = SITES[site]
    return (header, *paragraphs, footer)


def story_documents(index: int) -> list[Document]:
    site, title, paragraphs = _story(index)
    key = f"story-{index:03d}"
    rng = random.Random(f"copies {index}")
    url = f"{site}/news/{key}.html"
    others = [s for s in sorted(SITES) if s != site]

    def doc(kind: str, where: str, body: tuple[str, ...], **extra: str) -> Document:
        group = extra.get("group", key)
        via = extra.get("via", "page")
        return Document(f"{key}/{kind}", where, where, via, title, "\n".join(body), group, kind)

    def elsewhere(kind: str) -> str:
        return f"{rng.choice(others)}/{kind}/{key}.html"

    documents = [doc("original", url, _page(site, paragraphs))]
    if index % 3 == 0:  # a third of the stories are copied, each in several ways
        cut = list(paragraphs)
        del cut[rng.randrange(1, len(cut))]
        added = (
            EDITOR_NOTE,
            *paragraphs,
            *_story(index + 1000)[2][:2],  # background paragraphs from another story
        )
        host = rng.choice(others)
        documents += [
            doc("syndicated", elsewhere("syndicated"), _page(host, paragraphs)),
            doc("edit-2", elsewhere("edit-2"), _page(site, light_edit(paragraphs, 2, rng))),
            doc("edit-8", elsewhere("edit-8"), _page(host, light_edit(paragraphs, 8, rng))),
            doc("cut", elsewhere("cut"), _page(host, tuple(cut))),
            doc("added", elsewhere("added"), _page(host, added)),
            doc(
                "combined",
                elsewhere("combined"),
                _page(host, light_edit(tuple(cut[:-1]), 4, rng)),
            ),
        ]
    if index % 4 == 1:
        first = paragraphs[0].split(". ")[0].rstrip(".") + "."
        documents += [
            doc("translation", elsewhere("de"), _translate(paragraphs), group=f"{key}/de"),
            doc(
                "teaser",
                f"{AGGREGATOR}/t/{key}",
                (first, "Read more..."),
                group=f"{key}/teaser",
            ),
            doc("excerpt", f"{AGGREGATOR}/e/{key}", paragraphs[:2], group=f"{key}/excerpt"),
            doc("feed-item", url, (first, "Continue reading"), via="feed"),
        ]
    return documents


def build(stories: int = 120) -> list[Document]:
    """Every story's documents in one shuffled arrival order (copies often before originals)."""
    documents = [d for index in range(stories) for d in story_documents(index)]
    random.Random("newsroom arrival").shuffle(documents)
    return documents


if __name__ == "__main__":
    corpus = build()
    print(f"{len(corpus)} documents, {len({d.group for d in corpus})} groups")
    print(Counter(d.kind for d in corpus))
