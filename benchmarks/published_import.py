"""Every published SID index a data folder ships, imported as given (`sidrec.published`): how many items collide in
the file, how the collisions were resolved, and how many SIDs equal the file's exactly.

    PYTHONPATH=. python benchmarks/published_import.py ../shared/data/* --out benchmarks/results/published_import.json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.data import load_dataset
from sidrec.errors import SidrecError
from sidrec.layouts import read_index
from sidrec.published import import_index


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = []
    for folder in args.folders:
        try:
            ds = load_dataset(folder)
        except SidrecError as e:  # a folder in no supported layout (e.g. only P5 files)
            print(f"skipped: {e}", file=sys.stderr)
            continue
        for name, path in ds.index_files.items():
            tok = import_index(ds.item_ids, read_index(path, ds.items))
            s = tok.stats
            rows.append({
                "dataset": ds.name, "index": name, "items": len(tok), "tokens_per_sid": tok.n_levels,
                "colliding_items": s["colliding_items"], "collisions_resolved": s["collisions_resolved"],
                "sids_as_given": s["sids_as_given"],
            })  # fmt: skip
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    result = {"command": " ".join(sys.argv), "machine": machine(), "date": date.today().isoformat(), "rows": rows}
    write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
