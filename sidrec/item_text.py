"""What the alignment tasks read from an item's text and its tokens' keywords.

An item's product type (its deepest category), a short description cut at a word, the
keywords of its SID tokens that its own text contains (the words of a query task's need),
and a token's keyword description without its item count (what a TS-Align example says).
"""

from __future__ import annotations

import re

import pandas as pd

from sidrec.data import category_level
from sidrec.tokenizer import SIDTokenizer, token


def truncate(text: str, max_chars: int) -> str:
    """Cut at a word boundary, marking the cut with an ellipsis.

    >>> truncate("Sleeps two, packs small and sets up fast.", 20)
    'Sleeps two, packs…'
    """
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def product_type(categories: str) -> str:
    """The deepest category, lowercased: what the item is.

    >>> product_type("Outdoor & Camping > Tents > Backpacking Tent")
    'backpacking tent'
    """
    return category_level(categories, -1).lower()


def phrase_words(text: str) -> str:
    """Lowercase letters and digits only, single-spaced and padded, for whole-phrase matching.

    >>> phrase_words("Ultra-light 2P tent!")
    ' ultra light 2p tent '
    >>> text = phrase_words("Ultra-light tent")
    >>> phrase_words("light tent") in text, phrase_words("light") in phrase_words("Lightweight")
    (True, False)
    """
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split()) + " "


_COUNT_PREFIX = re.compile(r"^\d+ items?(, |\.$)")


def token_description(info: dict) -> str:
    """The keyword description without its item count (a catalogue statistic, not a meaning).

    >>> token_description({"description": "12 items, tents, camping"}), token_description({"description": "1 item."})
    ('tents, camping', '')
    """
    return _COUNT_PREFIX.sub("", info.get("description", "").strip()).strip()


def query_keywords(iid: str, items: pd.DataFrame, tok: SIDTokenizer, keywords: dict) -> list[str]:
    """Keywords of the item's meaningful SID tokens (coarse level first) that its own text contains.

    Token keywords describe a whole class of items; keeping only those found in
    this item's title/description/brand keeps the need true to the item. Keywords
    that merely repeat the product type are dropped.
    """
    text = phrase_words(" ".join(str(items.at[iid, c]) for c in ("title", "description", "brand")))
    ptype = set(product_type(str(items.at[iid, "categories"])).split())
    sep = tok.separating_level
    out: list[str] = []
    for level, code in enumerate(tok.codes_of(iid)):
        if level == sep:
            continue
        info = keywords.get(token(level, code))
        for kw in (info or {}).get("keywords", []):
            words = kw.lower().split()
            if kw in out or set(words) <= ptype or phrase_words(kw) not in text:
                continue
            out.append(kw)
    return out
