"""SASRec tuned on validation within a small grid: the baseline at its best, so that a ratio over it means
something.

Every point of the grid (hidden size x dropout x max length, the rest from a base `SASRecConfig`) is trained on
the training sequences with early stopping on validation NDCG@10 (`SASRec.fit`); the point with the highest
validation NDCG@10 wins and is kept as it stopped (its best epoch). Test targets are never read. The winner is
saved like any SASRec, with the whole grid and the data it was tuned on in its manifest, so that `evaluate
--sasrec FOLDER` can use it and check that it belongs to the data being evaluated (`check_belongs`).

What this does not do: search beyond the grid, or average seeds (one seed per point; the grid's spread is in
the rows).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from sidrec.artifacts import read_manifest
from sidrec.baselines import SASRec, SASRecConfig
from sidrec.coldstart import ColdConfig
from sidrec.data import Dataset, Split
from sidrec.errors import SidrecError
from sidrec.progress import ProgressFn
from sidrec.search_rules import history_rule


@dataclass(frozen=True)
class GridConfig:
    hidden: tuple[int, ...] = (64, 128)
    dropout: tuple[float, ...] = (0.2, 0.5)
    max_len: tuple[int, ...] = (10, 20)  # the evaluation caps histories at 20, so longer windows add nothing
    base: SASRecConfig = field(default_factory=SASRecConfig)  # every other setting

    def points(self) -> list[SASRecConfig]:
        """The grid's configs, hidden size slowest.

        >>> [(c.hidden, c.dropout, c.max_len) for c in GridConfig((32,), (0.1, 0.3), (5,)).points()]
        [(32, 0.1, 5), (32, 0.3, 5)]
        """
        if not (self.hidden and self.dropout and self.max_len):
            raise SidrecError("the SASRec grid needs at least one value per setting")
        return [
            replace(self.base, hidden=h, dropout=d, max_len=m)
            for h, d, m in itertools.product(self.hidden, self.dropout, self.max_len)
        ]


def _done(folder: Path, config: SASRecConfig, item_ids: list[str], key: dict | None) -> tuple[SASRec, dict] | None:
    """The point fitted earlier in `folder` (same settings but the device, same items, same `key`), or None."""
    try:
        manifest = read_manifest(folder, "sasrec", 1)
    except SidrecError:
        return None
    metrics = manifest.get("metrics") or {}
    same = {**manifest["config"], "device": config.device} == asdict(config) and metrics.get("key") == key
    same = same and "fit" in metrics
    model = SASRec.load(folder, device=config.device) if same else None
    return (model, metrics["fit"]) if model is not None and model.item_ids == item_ids else None


def tune(
    item_ids: list[str],
    split: Split,
    grid: GridConfig = GridConfig(),
    progress: ProgressFn | None = None,
    exclude_history: bool = True,
    work: str | Path | None = None,
    key: dict | None = None,
) -> tuple[SASRec, list[dict]]:
    """Fit every point of the grid; return the winner (highest validation NDCG@10, the first on a tie) and one
    row per point (its settings, epochs, best validation NDCG@10, seconds, and whether it won).

    With `work`, each fitted point is saved there as it finishes, and a point already there with the same
    settings, items and `key` (what the split was made from: `key_of`) is read back instead of fitted again, so
    the same call resumes an interrupted grid."""
    if not split.valid:
        raise SidrecError("tuning SASRec needs a validation split, and this data has none")
    points = grid.points()
    best, rows = None, []
    for n, config in enumerate(points):
        folder = Path(work) / f"hidden{config.hidden}_dropout{config.dropout:g}_len{config.max_len}" if work else None
        found = _done(folder, config, list(item_ids), key) if folder else None
        if found:
            model, fit = found
        else:
            model = SASRec(item_ids, config)

            def step(frac: float, msg: str, n=n) -> None:
                if progress:
                    progress((n + frac) / len(points), f"SASRec {n + 1}/{len(points)}: {msg.removeprefix('SASRec ')}")

            fit = model.fit(split, step, exclude_history=exclude_history)
            if folder:
                model.save(folder, metrics={"fit": fit, "key": key})
        rows.append({"hidden": config.hidden, "dropout": config.dropout, "max_len": config.max_len, **fit})
        if best is None or fit["best_valid_ndcg@10"] > rows[best[0]]["best_valid_ndcg@10"]:
            best = (n, model)
    for n, row in enumerate(rows):
        row["winner"] = n == best[0]
    if progress:
        progress(1.0, "done")
    return best[1], rows


def describe(rows: list[dict]) -> str:
    """One sentence on a grid's winner.

    >>> describe([{"hidden": 64, "dropout": 0.2, "max_len": 20, "best_valid_ndcg@10": 0.05, "winner": False},
    ...           {"hidden": 128, "dropout": 0.5, "max_len": 20, "best_valid_ndcg@10": 0.06, "winner": True}])
    'SASRec tuned on validation: hidden 128, dropout 0.5, max length 20 (validation NDCG@10 0.0600, best of 2 settings)'
    """
    w = next(r for r in rows if r["winner"])
    return (
        f"SASRec tuned on validation: hidden {w['hidden']}, dropout {w['dropout']:g}, max length {w['max_len']} "
        f"(validation NDCG@10 {w['best_valid_ndcg@10']:.4f}, best of {len(rows)} settings)"
    )


def key_of(ds: Dataset, cold: ColdConfig | None, exclude_history: bool) -> dict:
    """What a tuned SASRec belongs to: the data's fingerprint, the withheld items and the history rule."""
    return {
        "data_fingerprint": ds.fingerprint(),
        "cold_start": asdict(cold) if cold else None,
        "history_rule": history_rule(exclude_history),
    }


def save_tuned(
    model: SASRec, rows: list[dict], folder: str | Path, ds: Dataset, cold: ColdConfig | None, exclude_history: bool
) -> None:
    """Save the winner with what it was tuned on: the data's fingerprint, the cold-start draw and the history
    rule (what `check_belongs` compares), and the grid's rows."""
    model.save(
        folder,
        metrics={"grid": rows, "dataset": ds.name, **key_of(ds, cold, exclude_history)},
    )


def check_belongs(folder: str | Path, ds: Dataset, cold: ColdConfig | None, exclude_history: bool) -> dict:
    """The saved SASRec's manifest metrics, after checking it was tuned on this data, with the same withheld
    items and history rule; a SidrecError naming the first mismatch otherwise."""
    manifest = read_manifest(folder, "sasrec", 1)
    tuned = manifest.get("metrics") or {}
    want = key_of(ds, cold, exclude_history)
    if "data_fingerprint" not in tuned:
        raise SidrecError(f"{folder}: a SASRec saved without its data's fingerprint; tune one with `sidrec sasrec`")
    if tuned["data_fingerprint"] != want["data_fingerprint"]:
        raise SidrecError(f"{folder}: this SASRec was tuned on other data ({tuned.get('dataset')}), not on {ds.name}")
    if tuned.get("cold_start") != want["cold_start"]:
        said = lambda c: ColdConfig(**c).describe() if c else "every item trained on"  # noqa: E731
        raise SidrecError(
            f"{folder}: this SASRec was tuned with {said(tuned.get('cold_start'))}, not {said(want['cold_start'])}"
        )
    if tuned.get("history_rule") != want["history_rule"]:
        raise SidrecError(
            f"{folder}: this SASRec was tuned under another history rule ({tuned.get('history_rule')}); "
            "give --allow-repeats to both commands or to neither"
        )
    return tuned
