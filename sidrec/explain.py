"""Why an item was recommended, in the tokens it shares with the history.

An item's SID is a path down the codebooks: items that share a prefix were placed
together by their text and by how people buy them. For a recommended item, the
explanation names the deepest SID prefix it shares with items in the history,
how many history items share it (and each shorter prefix), and what the first
token means (its keywords). Separating-level codes carry no meaning and are never
counted. One short sentence each, for the CLI, the pages and the walkthrough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sidrec.tokenizer import SIDTokenizer, token


@dataclass(frozen=True)
class Explanation:
    item_id: str
    shared: list[dict] = field(
        default_factory=list
    )  # per level: {"prefix", "keywords", "history_items"}, shallow first
    sentence: str = ""

    def to_dict(self) -> dict:
        return {"item_id": self.item_id, "shared": self.shared, "sentence": self.sentence}


def _keywords(keywords: dict[str, dict], tok: str, n: int = 2) -> str:
    return ", ".join(keywords.get(tok, {}).get("keywords", [])[:n])


def explain(tok: SIDTokenizer, keywords: dict[str, dict], item_id: str, history: Sequence[str]) -> Explanation:
    """Which SID prefixes `item_id` shares with which history items, and one sentence saying so.

    >>> import numpy as np
    >>> from sidrec.tokenizer import TokenizerConfig
    >>> t = SIDTokenizer(["h1", "h2", "h3", "new"], np.array([[4, 1, 0], [4, 2, 0], [7, 1, 0], [4, 1, 1]]),
    ...                  TokenizerConfig())
    >>> explain(t, {"<a_4>": {"keywords": ["tent", "camping", "outdoor"]}}, "new", ["h1", "h2", "h3"]).sentence
    'Shares <a_4> (tent, camping) with 2 history items, <a_4><b_1> with 1.'
    """
    codes = tok.codes_of(item_id)
    sep = tok.separating_level
    meaningful = tok.n_levels if sep is None else sep  # the separating level is left out
    known = [h for h in dict.fromkeys(history) if h in tok and h != item_id]
    shared = []
    for level in range(meaningful):
        prefix = codes[: level + 1]
        holders = [h for h in known if tok.codes_of(h)[: level + 1] == prefix]
        if not holders:
            break
        shared.append({
            "prefix": "".join(token(lv, c) for lv, c in enumerate(prefix)),
            "keywords": keywords.get(token(level, codes[level]), {}).get("keywords", [])[:3],
            "history_items": holders,
        })  # fmt: skip
    first = token(0, codes[0])
    meaning = f" ({_keywords(keywords, first)})" if _keywords(keywords, first) else ""
    if not shared:
        sentence = f"Shares no code with the history; {first}{meaning} is new ground for this user."
    else:
        n = len(shared[0]["history_items"])
        parts = [f"Shares {shared[0]['prefix']}{meaning} with {n} history item{'s' if n != 1 else ''}"]
        parts += [f"{s['prefix']} with {len(s['history_items'])}" for s in shared[1:]]
        sentence = ", ".join(parts) + "."
    return Explanation(item_id, shared, sentence)


def explain_all(
    tok: SIDTokenizer, keywords: dict[str, dict], items: Sequence[str], history: Sequence[str]
) -> list[Explanation]:
    """`explain` for each recommended item of one history."""
    return [explain(tok, keywords, i, history) for i in items]
