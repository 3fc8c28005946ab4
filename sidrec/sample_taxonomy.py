"""The sample store's taxonomy: categories, subcategories and product types with their vocabularies.

The taxonomy is data, `sample_taxonomy.json` next to this module: twelve top-level categories, each with a
catalogue weight and four to six fictional brands, their subcategories, and product types, each type with the
words its titles and descriptions are assembled from and the "complement" types bought right after it (tent ->
sleeping bag, ...). Edit the file to change the store; `type_rows` checks that type names are unique and that
every complement names a type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

FILE = "sample_taxonomy.json"


@dataclass(frozen=True)
class ProductType:
    """A product type and the words its titles and descriptions are assembled from."""

    name: str  # e.g. "Backpacking Tent"; unique across the catalogue
    qualifiers: tuple[str, ...]  # title word(s) before the spec, e.g. "Ultralight"
    specs: tuple[str, ...]  # size/capacity before the noun, e.g. "2-Person" (may be empty)
    features: tuple[str, ...]  # selling points, e.g. "Waterproof"
    details: tuple[str, ...]  # participle phrases, e.g. "made from ripstop nylon"
    variants: tuple[str, ...]  # colour, flavour or format shown last in the title
    use: str  # participle phrase, e.g. "designed for backpacking trips"
    complements: tuple[str, ...] = ()  # names of types bought right after this one; non-empty = "main"

    @property
    def plural(self) -> bool:
        last = self.name.split()[-1]
        return last.endswith("s") and not last.endswith("ss")


@dataclass(frozen=True)
class Subcategory:
    name: str
    types: tuple[ProductType, ...]


@dataclass(frozen=True)
class Category:
    name: str
    weight: float  # share of the catalogue this category gets
    brands: tuple[str, ...]
    subcategories: tuple[Subcategory, ...]


@dataclass(frozen=True)
class TypeRow:
    category: int  # index into the taxonomy's categories
    subcategory: Subcategory
    ptype: ProductType


@cache
def taxonomy() -> tuple[Category, ...]:
    """The categories of `sample_taxonomy.json`, in file order."""
    raw = json.loads(resources.files("sidrec").joinpath(FILE).read_text(encoding="utf-8"))
    return tuple(
        Category(
            name=c["name"],
            weight=float(c["weight"]),
            brands=tuple(c["brands"]),
            subcategories=tuple(
                Subcategory(
                    s["name"],
                    tuple(
                        ProductType(**{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()})
                        for t in s["types"]
                    ),
                )
                for s in c["subcategories"]
            ),
        )
        for c in raw
    )


def type_rows() -> list[TypeRow]:
    """Every product type with its category and subcategory, in file order; checks that type names are unique
    and that every complement names a type."""
    rows: list[TypeRow] = []
    for ci, cat in enumerate(taxonomy()):
        for sub in cat.subcategories:
            rows += [TypeRow(ci, sub, pt) for pt in sub.types]
    names = [row.ptype.name for row in rows]
    if len(set(names)) != len(names):
        raise ValueError("product type names must be unique")
    known = set(names)
    for row in rows:
        missing = [c for c in row.ptype.complements if c not in known]
        if missing:
            raise ValueError(f"{row.ptype.name}: unknown complement types {missing}")
    return rows


def brand_names() -> list[str]:
    """Every brand once, in order of first appearance."""
    return list(dict.fromkeys(brand for cat in taxonomy() for brand in cat.brands))


def complement_types() -> dict[str, tuple[str, ...]]:
    """Main product type name -> names of its complement types (types without complements are left out)."""
    return {row.ptype.name: row.ptype.complements for row in type_rows() if row.ptype.complements}
