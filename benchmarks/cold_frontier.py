"""What new items cost warm users, drawn: each rule of a `cold_rules.py` run as a point (warm Recall@10 across,
cold Recall@10 up, ± 1 SE), with text similarity's cold Recall@10 and, given the evaluation of the model trained on
every item on the same split (`evaluate --cold-items ... --cold-trained-on-all`), 0.95x of its warm Recall@10.

With `--paired`, each point is instead a rule's change from the run's first rule on the same users (paired per
user), so runs on different warm users can share a plot: `--teach` adds the searches of a `cold_teach.py` run, each
as its change from that run's untaught model.

    PYTHONPATH=. python benchmarks/cold_frontier.py benchmarks/results/cold_rules_weight_sample.json \\
        --reference benchmarks/results/cold_reference_valid_sample.json \\
        --out benchmarks/results/cold_frontier_sample.html
    PYTHONPATH=. python benchmarks/cold_frontier.py benchmarks/results/cold_rules_weight_sample.json --paired \\
        --teach benchmarks/results/cold_teach_sample_valid.json \\
        --out benchmarks/results/cold_frontier_paired_sample.html
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


def changes(rows: dict) -> list[dict]:
    """Per search: its name and its paired change in warm and cold Recall@10 from the search the others are paired
    with (their "minus <name>" entries, as cold_rules.py and cold_teach.py write them), with standard errors; that
    search is the origin, listed first.

    >>> rows = {"b": {"warm": {"minus a": {"recall@10": 0.01, "recall@10_se": 0.002}},
    ...               "cold": {"minus a": {"recall@10": -0.1, "recall@10_se": 0.04}}}, "a": {"warm": {}, "cold": {}}}
    >>> changes(rows)
    [{'rule': 'a', 'warm': 0.0, 'warm_se': 0.0, 'cold': 0.0, 'cold_se': 0.0}, {'rule': 'b', 'warm': 0.01, \
'warm_se': 0.002, 'cold': -0.1, 'cold_se': 0.04}]
    """
    (first,) = {k.removeprefix("minus ") for row in rows.values() for k in row["warm"]} & set(rows)
    out = [{"rule": first, "warm": 0.0, "warm_se": 0.0, "cold": 0.0, "cold_se": 0.0}]
    for name in (n for n in rows if n != first):
        w, c = rows[name]["warm"][f"minus {first}"], rows[name]["cold"][f"minus {first}"]
        out.append({"rule": name, "warm": w["recall@10"], "warm_se": w["recall@10_se"], "cold": c["recall@10"],
                    "cold_se": c["recall@10_se"]})  # fmt: skip
    return out


def scatter(pts: list[dict], name: str, short: bool = True):
    """The points as one trace; `short` labels a cold_rules.py rule by its score and weight ("cell@0.3")."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=[p["warm"] for p in pts],
        y=[p["cold"] for p in pts],
        text=[p["rule"].split("/")[-1] if short else p["rule"] for p in pts],
        mode="markers+text",
        textposition="top center",
        error_x={"array": [p["warm_se"] for p in pts]},
        error_y={"array": [p["cold_se"] for p in pts]},
        name=name,
    )


def paired_figure(result: dict, teach: dict | None):
    """Each search's paired change from its run's first search: the weight grid's and the teaching's."""
    import plotly.graph_objects as go

    fig = go.Figure(scatter(changes(result["rules"]), "placed weight (from W = 1), ± 1 paired SE"))
    if teach:
        fig.add_trace(scatter(changes(teach["searches"]), "taught (from the untaught model), ± 1 paired SE", False))
    fig.update_layout(
        title=f"New items in the search: what each rule changes for warm and cold users ({result['split']} split)",
        xaxis_title="change in warm users' Recall@10 (paired)",
        yaxis_title="change in cold users' Recall@10 (paired)",
    )
    return fig


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules", type=Path, help="a cold_rules.py result")
    ap.add_argument("--reference", type=Path, help="the model trained on every item, evaluated on the same split")
    ap.add_argument("--paired", action="store_true", help="plot each rule's paired change from the first rule")
    ap.add_argument("--teach", type=Path, help="with --paired: a cold_teach.py result to add")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    import plotly.graph_objects as go

    result = json.loads(args.rules.read_text())
    if args.paired:
        teach = json.loads(args.teach.read_text()) if args.teach else None
        paired_figure(result, teach).write_html(args.out, include_plotlyjs="cdn")
        return 0
    fig = go.Figure(scatter(points(result), "SID-LLM, one rule each (± 1 unpaired SE)"))
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
