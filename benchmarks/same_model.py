"""Whether an evaluation JSON is of a given model (the same model fingerprint): exit 0 if so, else 1. How a benchmark
script decides to keep an evaluation it made before rather than evaluate again.

    PYTHONPATH=. python benchmarks/same_model.py EVALUATION MODEL [--split test] [--tuned-sasrec]
"""

from __future__ import annotations

import argparse
import json

from sidrec.model import model_fingerprint


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evaluation", help="an evaluate --out or --json result")
    ap.add_argument("model", help="the model folder it should be of")
    ap.add_argument("--split", help="and of this split")
    ap.add_argument("--tuned-sasrec", action="store_true", help="and against the SASRec tuned on validation")
    args = ap.parse_args()
    try:
        ev = json.load(open(args.evaluation))
    except (OSError, ValueError):  # none, or not JSON: evaluate instead
        return 1
    same = ev.get("model_fingerprint") == model_fingerprint(args.model)
    same = same and (args.split is None or ev.get("split") == args.split)
    return 0 if same and (ev.get("sasrec_tuned") or not args.tuned_sasrec) else 1


if __name__ == "__main__":
    raise SystemExit(main())
