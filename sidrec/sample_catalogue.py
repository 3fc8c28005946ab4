"""The sample store's item catalogue: items drawn from the taxonomy (`sidrec.sample_taxonomy`).

Each product type gets at least two items and each category its weight's share of the catalogue; an item is a
brand of its category, words drawn from its type's vocabulary for a unique title, and a description of one to
three sentences. `build_catalogue` also returns the integer lookups the user simulation draws from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sidrec.sample_taxonomy import ProductType, TypeRow, brand_names, taxonomy, type_rows

if TYPE_CHECKING:
    from sidrec.sample import SampleConfig

ITEM_COLUMNS = ("item_id", "title", "description", "brand", "categories")
CATEGORY_SEPARATOR = " > "


@dataclass(frozen=True)
class _Parts:
    """The randomly drawn words of one item, shared by its title and description."""

    qualifier: str
    spec: str
    features: tuple[str, ...]
    variant: str
    detail: str


@dataclass(frozen=True)
class CatalogueIndex:
    """Integer lookups over the generated catalogue used by the user simulation (row = item index)."""

    item_cat: np.ndarray
    item_type: np.ndarray
    item_brand: np.ndarray
    item_pop: np.ndarray  # within-type popularity weight (Zipf by a random rank)
    type_cat: np.ndarray
    type_weight: np.ndarray  # organic pick weight of a type within its category
    type_items: tuple[np.ndarray, ...]
    cat_items: tuple[np.ndarray, ...]
    cat_types: tuple[np.ndarray, ...]
    complements: tuple[np.ndarray, ...]  # complement type indices per type
    type_brand_items: dict[tuple[int, int], np.ndarray]
    cat_brand_items: dict[tuple[int, int], np.ndarray]
    cat_weight: np.ndarray


def draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn with probability proportional to ``weights`` (non-negative, positive sum)."""
    cumulative = np.cumsum(weights)
    position = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(position, len(weights) - 1)


def _choice(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _allocate(total: int, weights: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts >= ``minimum``, the rest proportional to ``weights``."""
    minimum = np.asarray(minimum, dtype=np.int64)
    rest = total - int(minimum.sum())
    if rest < 0:
        raise ValueError(f"cannot split {total} into parts of at least {minimum.tolist()}")
    share = rest * np.asarray(weights, dtype=float) / float(np.sum(weights))
    parts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - parts), kind="stable")
    parts[order[: rest - int(parts.sum())]] += 1
    return minimum + parts


def _draw_parts(ptype: ProductType, rng: np.random.Generator) -> _Parts:
    qualifier = _choice(ptype.qualifiers, rng)
    features = [f for f in ptype.features if f != qualifier]
    order = rng.permutation(len(features))
    return _Parts(
        qualifier=qualifier,
        spec=_choice(ptype.specs, rng) if ptype.specs else "",
        features=tuple(features[i] for i in order[:3]),
        variant=_choice(ptype.variants, rng),
        detail=_choice(ptype.details, rng),
    )


def _title(brand: str, ptype: ProductType, parts: _Parts) -> str:
    head = " ".join(word for word in (brand, parts.qualifier, parts.spec, ptype.name) if word)
    return f"{head}, {parts.features[0]}, {parts.variant}"


def _unique_title(
    brand: str, ptype: ProductType, taken: set[str], rng: np.random.Generator, tries: int = 50
) -> tuple[str, _Parts]:
    """Draw title words until the title is new; after ``tries`` collisions add a model number."""
    parts = _draw_parts(ptype, rng)
    title = _title(brand, ptype, parts)
    for _ in range(tries):
        if title not in taken:
            return title, parts
        parts = _draw_parts(ptype, rng)
        title = _title(brand, ptype, parts)
    while title in taken:
        title = f"{_title(brand, ptype, parts)}, Model {int(rng.integers(100, 1000))}"
    return title, parts


def _join_list(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _description(brand: str, row: TypeRow, parts: _Parts, rng: np.random.Generator) -> str:
    """One to three sentences: what it is and is for, its features, and one extra line."""
    ptype = row.ptype
    det, verb, pronoun = ("These", "are", "They offer") if ptype.plural else ("This", "is", "It offers")
    name = f"{parts.qualifier} {ptype.name}"
    if rng.random() < 0.5:
        sentences = [f"{det} {name} {verb} {parts.detail} and {ptype.use}."]
    else:
        use = ptype.use[0].upper() + ptype.use[1:]
        sentences = [f"{use}, {det.lower()} {name} from {brand} {verb} {parts.detail}."]
    if rng.random() < 0.85:
        n_features = min(len(parts.features), int(rng.integers(2, 4)))
        listed = _join_list(parts.features[:n_features])
        opener = ("Features include", "Highlights:", pronoun)[int(rng.integers(3))]
        sentences.append(f"{opener} {listed}.")
    if rng.random() < 0.6:
        extras = [
            f"Part of the {brand} {row.subcategory.name} range.",
            f"Available in {parts.variant}.",
            f"A popular choice in our {row.subcategory.name} collection.",
        ]
        if ptype.complements:
            order = rng.permutation(len(ptype.complements))[:2]
            extras.append(f"Often bought with: {_join_list(tuple(ptype.complements[i] for i in order))}.")
        sentences.append(extras[int(rng.integers(len(extras)))])
    return " ".join(sentences)


def build_catalogue(config: SampleConfig, rng: np.random.Generator) -> tuple[pd.DataFrame, CatalogueIndex]:
    rows = type_rows()
    brands = brand_names()
    brand_index = {name: i for i, name in enumerate(brands)}
    type_ids = {row.ptype.name: t for t, row in enumerate(rows)}
    n_types = len(rows)
    cat_weight = np.array([cat.weight for cat in taxonomy()])
    types_per_cat = np.bincount([row.category for row in rows], minlength=len(taxonomy()))
    cat_counts = _allocate(config.n_items, cat_weight, 2 * types_per_cat)

    is_main = np.array([bool(row.ptype.complements) for row in rows])
    type_weight = rng.lognormal(0.0, config.type_popularity_sigma, size=n_types)
    type_weight *= np.where(is_main, config.main_type_boost, 1.0)

    taken: set[str] = set()
    records: list[dict[str, object]] = []
    for ci, cat in enumerate(taxonomy()):
        cat_type_ids = [t for t, row in enumerate(rows) if row.category == ci]
        type_counts = _allocate(
            int(cat_counts[ci]), rng.gamma(4.0, size=len(cat_type_ids)), np.full(len(cat_type_ids), 2)
        )
        brand_weight = rng.dirichlet(np.full(len(cat.brands), 3.0))
        for t, count in zip(cat_type_ids, type_counts, strict=True):
            row = rows[t]
            ranks = rng.permutation(int(count))
            path = CATEGORY_SEPARATOR.join((cat.name, row.subcategory.name, row.ptype.name))
            for k in range(int(count)):
                brand = cat.brands[draw(brand_weight, rng)]
                title, parts = _unique_title(brand, row.ptype, taken, rng)
                taken.add(title)
                records.append(
                    {
                        "title": title,
                        "description": _description(brand, row, parts, rng),
                        "brand": brand,
                        "categories": path,
                        "_cat": ci,
                        "_type": t,
                        "_brand": brand_index[brand],
                        "_pop": 1.0 / float(ranks[k] + 1) ** config.zipf_exponent,
                    }
                )

    # Shuffle so that item ids carry no information about the category or type.
    records = [records[i] for i in rng.permutation(len(records))]
    width = max(4, len(str(len(records))))
    items = pd.DataFrame(records)
    items.insert(0, "item_id", [f"I{i + 1:0{width}d}" for i in range(len(records))])

    item_cat = items["_cat"].to_numpy(np.int64)
    item_type = items["_type"].to_numpy(np.int64)
    item_brand = items["_brand"].to_numpy(np.int64)
    type_brand: dict[tuple[int, int], list[int]] = {}
    cat_brand: dict[tuple[int, int], list[int]] = {}
    triples = zip(item_cat.tolist(), item_type.tolist(), item_brand.tolist(), strict=True)
    for i, (c, t, b) in enumerate(triples):
        type_brand.setdefault((t, b), []).append(i)
        cat_brand.setdefault((c, b), []).append(i)
    index = CatalogueIndex(
        item_cat=item_cat,
        item_type=item_type,
        item_brand=item_brand,
        item_pop=items["_pop"].to_numpy(float),
        type_cat=np.array([row.category for row in rows], dtype=np.int64),
        type_weight=type_weight,
        type_items=tuple(np.flatnonzero(item_type == t) for t in range(n_types)),
        cat_items=tuple(np.flatnonzero(item_cat == c) for c in range(len(taxonomy()))),
        cat_types=tuple(
            np.array([t for t, row in enumerate(rows) if row.category == c], dtype=np.int64)
            for c in range(len(taxonomy()))
        ),
        complements=tuple(np.array([type_ids[c] for c in r.ptype.complements], dtype=np.int64) for r in rows),
        type_brand_items={key: np.array(v, dtype=np.int64) for key, v in type_brand.items()},
        cat_brand_items={key: np.array(v, dtype=np.int64) for key, v in cat_brand.items()},
        cat_weight=cat_weight,
    )
    return items.loc[:, list(ITEM_COLUMNS)].copy(), index
