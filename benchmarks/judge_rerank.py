"""Does the model's own yes/no judgement re-order its search's list for the better?

The negative-sampling task teaches the LLM to answer "(history, candidate SID) -> yes/no". This benchmark asks it
that question about each of the search's top-N items (N = the beams) and scores every candidate by

    beam log-probability + weight * (log p(yes) - log p(no))

for a grid of weights (0: the search's own order); the top 10 of that order are scored against the target with
the history rule on. The judgement's prompt is the task's first phrasing, exactly as training wrote it. The
history part of the prompt is encoded once per user and shared by its candidates.

    PYTHONPATH=.:benchmarks python benchmarks/judge_rerank.py models/sample/llm sample_data --split valid \\
        --max-users 1000 --out benchmarks/results/judge_rerank_valid.json

The output holds, per weight, Recall/NDCG@10 and the paired difference against weight 0, and per user the
candidates with both scores (so another weight costs no model call: `--from FILE`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import torch

from sidrec.ablation import paired_se
from sidrec.artifacts import write_json_atomic
from sidrec.data import load_dataset, split_dataset
from sidrec.evaluate import seen_items
from sidrec.generate import GenerateConfig, Recommender
from sidrec.llm import model_input, torch_threads
from sidrec.metrics import at_rank, rank_of
from sidrec.model import tokenizer_dir_for
from sidrec.prompts import TEMPLATES, sids_text

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 1e6)  # 1e6: the judgement alone, the beam breaking ties
METRICS = ("recall@10", "ndcg@10")


@torch.inference_mode()
def judge(rec: Recommender, history: list[str], candidates: list[str], max_history: int = 20) -> list[float]:
    """log p(yes) - log p(no) for each candidate, the history's prompt encoded once."""
    tok, llm = rec.sid_tok, rec.llm_tok
    template = TEMPLATES["negative"][0]
    hist = sids_text(tuple(history)[-max_history:], tok)
    texts = [model_input(template.format(history=hist, candidate=tok.encode(c))) for c in candidates]
    ids = [llm(t, add_special_tokens=False)["input_ids"] for t in texts]
    common = 0
    while all(len(x) > common + 1 and x[common] == ids[0][common] for x in ids):
        common += 1
    if len({len(x) for x in ids}) != 1:
        raise SystemExit("candidate prompts differ in length: the shared-prefix encoding does not apply")
    yes, no = (llm(w, add_special_tokens=False)["input_ids"][0] for w in ("yes", "no"))
    dev = rec.device
    prefix = torch.tensor([ids[0][:common]], device=dev)
    out = rec.base(input_ids=prefix, use_cache=True)
    cache = out.past_key_values
    cache.batch_repeat_interleave(len(candidates))
    suffix = torch.tensor([x[common:] for x in ids], device=dev)  # (N, S)
    pos = torch.arange(common, common + suffix.shape[1], device=dev)[None].expand(len(candidates), -1)
    logits = rec.base(input_ids=suffix, past_key_values=cache, position_ids=pos, use_cache=True).logits[:, -1].float()
    logp = torch.log_softmax(logits, -1)
    return (logp[:, yes] - logp[:, no]).tolist()


def score(users: list[dict], weight: float, k: int = 10) -> list[int | None]:
    """Per user, the target's rank in the top k of the combined order."""
    ranks = []
    for u in users:
        order = sorted(range(len(u["items"])), key=lambda i: -(u["beam"][i] + weight * u["judge"][i]))
        ranks.append(rank_of([u["items"][i] for i in order[:k]], u["target"]))
    return ranks


def against_search(users: list[dict], weight: float, base: list[int | None]) -> dict:
    """Recall/NDCG@10 of the combined order at `weight`, and its paired difference from the search's own order
    (`base`: the ranks at weight 0)."""
    ranks = score(users, weight)
    row: dict = {"weight": weight}
    for m in METRICS:
        mean, base_mean = (sum(at_rank(m, r) for r in rs) / len(rs) for rs in (ranks, base))
        se = paired_se([{"ranks": dict(enumerate(ranks))}], [{"ranks": dict(enumerate(base))}], m)
        row[m] = {"value": round(mean, 4), "minus_search": round(mean - base_mean, 4), "paired_se": round(se, 4)}
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--split", choices=("valid", "test"), default="valid")
    ap.add_argument("--max-users", type=int, default=0)
    ap.add_argument("--beams", type=int, default=20)
    ap.add_argument("--from", dest="source", type=Path, help="re-score the candidates of an earlier run")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.source:  # the candidates, split and beams are the earlier run's
        earlier = json.loads(args.source.read_text())
        users, args.split, args.beams, seconds = earlier["per_user"], earlier["split"], earlier["beams"], {}
    else:
        torch_threads()
        ds = load_dataset(args.data)
        split = split_dataset(ds)
        samples = split.test if args.split == "test" else split.valid
        samples = samples[: args.max_users] if args.max_users else samples
        rec = Recommender.from_dirs(
            args.model, tokenizer_dir_for(args.model), GenerateConfig(num_beams=args.beams, top_k=args.beams)
        )
        exclude = seen_items(samples, split)
        users, t_search, t_judge = [], 0.0, 0.0
        for n, (s, ex) in enumerate(zip(samples, exclude, strict=True)):
            t0 = time.perf_counter()
            r = rec.recommend([list(s.history)], exclude=[ex])[0]
            t1 = time.perf_counter()
            users.append(
                {"user_id": s.user_id, "target": s.target, "items": r.items, "beam": r.scores,
                 "judge": judge(rec, list(s.history), r.items)}
            )  # fmt: skip
            t_search, t_judge = t_search + t1 - t0, t_judge + time.perf_counter() - t1
            if (n + 1) % 50 == 0:
                print(f"{n + 1}/{len(samples)} users, search {t_search / (n + 1) * 1000:.0f} ms/user, "
                      f"judge {t_judge / (n + 1) * 1000:.0f} ms/user", file=sys.stderr, flush=True)  # fmt: skip
        seconds = {"search_ms_per_user": round(t_search * 1000 / len(users), 1),
                   "judge_ms_per_user": round(t_judge * 1000 / len(users), 1)}  # fmt: skip
    base = score(users, 0.0)
    table = [against_search(users, w, base) for w in WEIGHTS]
    for row in table:
        print(json.dumps(row), file=sys.stderr)
    result = {
        "command": " ".join(sys.argv), "date": date.today().isoformat(), "model": str(args.model),
        "split": args.split, "users": len(users), "beams": args.beams, **seconds, "weights": table,
        "judge_separates": _separation(users), "per_user": users,
    }  # fmt: skip
    write_json_atomic(args.out, result)
    return 0


def _separation(users: list[dict]) -> dict:
    """How often the target's judgement beats another candidate's, over users whose target is among the candidates
    (an AUC of the judgement inside the list; 0.5 is no information), and the same for the beam score."""
    pairs = wins_j = wins_b = 0
    for u in users:
        if u["target"] not in u["items"]:
            continue
        t = u["items"].index(u["target"])
        for i in range(len(u["items"])):
            if i != t:
                pairs += 1
                wins_j += u["judge"][t] > u["judge"][i]
                wins_b += u["beam"][t] > u["beam"][i]
    return {"pairs": pairs, "judge_auc": round(wins_j / max(pairs, 1), 4), "beam_auc": round(wins_b / max(pairs, 1), 4),
            "users_with_target": sum(u["target"] in u["items"] for u in users)}  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
