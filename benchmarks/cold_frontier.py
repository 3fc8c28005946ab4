"""What new items cost warm users, drawn: each rule of a `cold_rules.py` run as a point (warm Recall@10 across,
cold Recall@10 up, ± 1 SE), with text similarity's cold Recall@10 and, given the evaluation of the model trained on
every item on the same split (`evaluate --cold-items ... --cold-trained-on-all`), 0.95x of its warm Recall@10.

    PYTHONPATH=. python benchmarks/cold_frontier.py benchmarks/results/cold_rules_weight_sample.json \\
        --reference benchmarks/results/cold_reference_valid_sample.json \\
        --out benchmarks/results/cold_frontier_sample.html
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def points(result: dict) -> list[dict]:
    """Per rule: its name, warm and cold Recall@10 and their standard errors.

    >>> r = {"rules": {"a/cell": {"warm": {"recall@10": 0.3, "recall@10_se": 0.01},
    ...                           "cold": {"recall@10": 0.2, "recall@10_se": 0.05}}}}
    >>> points(r)
    [{'rule': 'a/cell', 'warm': 0.3, 'warm_se': 0.01, 'cold': 0.2, 'cold_se': 0.05}]
    """
    return [
        {
            "rule": name,
            "warm": row["warm"]["recall@10"],
            "warm_se": row["warm"]["recall@10_se"],
            "cold": row["cold"]["recall@10"],
            "cold_se": row["cold"]["recall@10_se"],
        }  # fmt: skip
        for name, row in result["rules"].items()
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules", type=Path, help="a cold_rules.py result")
    ap.add_argument("--reference", type=Path, help="the model trained on every item, evaluated on the same split")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    import plotly.graph_objects as go

    result = json.loads(args.rules.read_text())
    pts = points(result)
    fig = go.Figure(
        go.Scatter(
            x=[p["warm"] for p in pts],
            y=[p["cold"] for p in pts],
            text=[p["rule"].split("/")[-1] for p in pts],
            mode="markers+text",
            textposition="top center",
            error_x={"array": [p["warm_se"] for p in pts]},
            error_y={"array": [p["cold_se"] for p in pts]},
            name="SID-LLM, one rule each (± 1 unpaired SE)",
        )  # fmt: skip
    )
    fig.add_hline(y=result["text"]["cold"]["recall@10"], line_dash="dash", annotation_text="text similarity, cold")
    if args.reference:
        warm = json.loads(args.reference.read_text())["by_target"]["warm"]["models"]["sid-llm"]["recall@10"]
        fig.add_vline(x=0.95 * warm, line_dash="dot", annotation_text="0.95x trained on all items, warm")
    fig.update_layout(
        title=f"New items in the search: warm against cold Recall@10 ({result['split']} split, "
        f"{result['users']['cold']:,} cold and {result['users']['warm']:,} warm users)",
        xaxis_title="warm users' Recall@10",
        yaxis_title="cold users' Recall@10",
    )
    fig.write_html(args.out, include_plotlyjs="cdn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
