"""New items' place in a list: the SID-LLM's top 10 with its last places given to the withheld items whose text
reads most like the history, measured for cold-target and warm-target users apart.

Rules, each applied to the SID-LLM's list (new items it already ranks stay where they are):

- sid: the list as the search returns it;
- tail-N: the N new items nearest the history by text (not already in the list) take the last N places;
- gated: the nearest new item takes the last place only when its text is closer to the history than the text
  of the list's last item is (no label is read): `GenerateConfig(new_item_place="gated")`, computed here by the
  same function (`sidrec.search_rules.new_item_place`) on the tokenizer's text vectors;
- gated-topN: the gate, firing only when the chosen item is also among the N items of the whole catalogue (the
  history left out) whose text is nearest the history's: a gate that does not open more often as the catalogue
  holds more new items (`GenerateConfig(new_item_top=N)`, the same function);
- agree-N (`--agree N ...`, with `--model` only): the search's 20 beams' items, each new item among them passed over
  unless it is also among the N items of the whole catalogue nearest the history by text
  (`text_agrees`), cut to 10, then the default gate (gated-top10). Measured on the sample's validation split and
  not adopted (BENCHMARKS.md, cold start), so it lives here rather than in the library.

Text nearness here is the tokenizer's (`SIDTokenizer.text_embeddings`), as in the search; the text-similarity
baseline ("text") encodes every item afresh, as `evaluate` does.

The SID-LLM's lists come from a search on the split (`--model`, cold-target users and the first `--warm-users`
others; use on the validation split to choose a rule) or from the per-user rows of an
`evaluate --cold-items ... --out FILE` run (`--lists`, every test user; report the chosen rule there).

    PYTHONPATH=. python benchmarks/cold_blend.py sample_data --model benchmarks/work/cold_start/llm --split valid \\
        --out benchmarks/results/cold_blend_valid.json
    PYTHONPATH=. python benchmarks/cold_blend.py sample_data --lists benchmarks/work/cold_start/withheld.json \\
        --tokenizer benchmarks/work/cold_start/tokenizer --out benchmarks/results/cold_blend_test.json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from sidrec.artifacts import write_json_atomic
from sidrec.bench import machine
from sidrec.coldstart import ColdConfig, cold_items
from sidrec.data import load_dataset, split_dataset
from sidrec.errors import SidrecError
from sidrec.evaluate import seen_items, text_similarity
from sidrec.metrics import ndcg_at, recall_at
from sidrec.search_rules import new_item_place
from sidrec.tokenizer import SIDTokenizer

K = 10
TOP_N = (1, 3, 10)  # gated-topN: the gate, and the chosen item among the N items nearest the history by text


def per_user(lists: list[list[str]], targets: list[str]) -> np.ndarray:
    """(users, 2): Recall@10 and NDCG@10 of each list."""
    return np.array([[recall_at(lst, t, K), ndcg_at(lst, t, K)] for lst, t in zip(lists, targets, strict=True)])


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """A minus B per user (rows of `per_user`): the mean difference of Recall@10 and NDCG@10 and the standard
    error of each.

    >>> paired(np.array([[1.0, 0.5], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 0.0]]))
    {'recall@10': 0.5, 'recall@10_se': 0.5, 'ndcg@10': 0.25, 'ndcg@10_se': 0.25}
    """
    d = a - b
    se = d.std(0, ddof=1) / np.sqrt(len(d))
    return {"recall@10": round(float(d[:, 0].mean()), 4), "recall@10_se": round(float(se[0]), 4),
            "ndcg@10": round(float(d[:, 1].mean()), 4), "ndcg@10_se": round(float(se[1]), 4)}  # fmt: skip


def blend(sid: list[str], new: list[str], n: int) -> list[str]:
    """The SID list with its last n places given to the first new items not in it.

    >>> "".join(blend(list("abcdefghij"), list("xjy"), 2))
    'abcdefghxy'
    >>> "".join(blend(list("abc"), list("xby"), 2))  # a short list keeps its items and gains the new ones
    'abcxy'
    """
    fresh = [i for i in new if i not in sid][:n]
    return sid[: K - len(fresh)] + fresh if len(sid) >= K else (sid + fresh)[:K]


def take_last(sid_lists: list[list[str]], chosen: list[int | None], item_ids: list[str]) -> list[list[str]]:
    """Each list with its last place given to the item (a row) the gate chose, where it chose one.

    >>> ["".join(s) for s in take_last([list("abcdefghij"), list("abcdefghij")], [1, None], list("xyz"))]
    ['abcdefghiy', 'abcdefghij']
    """
    return [sid if c is None else [*sid[: K - 1], item_ids[c]] for sid, c in zip(sid_lists, chosen, strict=True)]


def text_agrees(
    histories: list[list[int]], lists: list[list[int]], blocked: list[set[int]], text: np.ndarray, placed: np.ndarray,
    k: int, top: int,
) -> list[list[int]]:  # fmt: skip
    """Per user, the search's list (rows, best first, longer than k where the beams hold more) cut to k, with each
    placed item (rows in `placed`) passed over unless it is among the `top` items of the whole catalogue (blocked
    items left out) whose text is nearest the history's: the model's likelihood of a new item's cell and the item's
    own text must agree. A passed-over item comes back, in its order, only when fewer than k others remain.

    >>> text = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [0.6, 0.8], [0.28, 0.96]])  # rows 2, 3 were placed
    >>> text_agrees([[0]], [[3, 2, 4, 1]], [set()], text, np.array([2, 3]), k=2, top=2)  # 3 is 3rd nearest to 0
    [[2, 4]]
    >>> text_agrees([[0]], [[3, 2, 4, 1]], [{0}], text, np.array([2, 3]), k=2, top=2)  # with 0 blocked: 2nd
    [[3, 2]]
    >>> text_agrees([[0]], [[3, 2]], [{0}], text, np.array([2, 3]), k=2, top=1)  # too few others: back in order
    [[3, 2]]
    """
    if top < 1:
        raise SidrecError(f"the text check's top must be at least 1, got {top}")
    is_placed = set(placed.tolist())
    out = []
    for h, ranked, no in zip(histories, lists, blocked, strict=True):
        if not h or not is_placed.intersection(ranked):
            out.append(ranked[:k])
            continue
        near = text @ text[h].mean(0)
        near[list(no)] = -np.inf
        passed = [r for r in ranked if r in is_placed and int((near > near[r]).sum()) >= top]
        back = set(passed[: max(0, k - (len(ranked) - len(passed)))])  # only when too few others remain
        out.append([r for r in ranked if r not in passed or r in back][:k])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--model", type=Path, help="search this model on the split (cold-start protocol)")
    ap.add_argument("--lists", type=Path, help="or read the SID-LLM's per-user lists from an evaluate --out file")
    ap.add_argument("--tokenizer", type=Path, help="the tokenizer whose text settings the text scores use")
    ap.add_argument("--split", default="valid", choices=["valid", "test"])
    ap.add_argument("--warm-users", type=int, default=300)
    ap.add_argument("--cold-items", type=float, default=0.05)
    ap.add_argument("--cold-seed", type=int, default=0)
    ap.add_argument("--agree", type=int, nargs="*", default=[], metavar="N", help="agree-N rules (with --model)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.agree and not args.model:
        ap.error("--agree needs the search's beams: give --model")
    ds = load_dataset(args.data)
    cold = cold_items(ds, ColdConfig(args.cold_items, args.cold_seed))
    cold_set = set(cold)
    split = split_dataset(ds)
    if args.lists:
        rows = json.loads(args.lists.read_text())["per_user"]
        by_user = {s.user_id: s for s in (split.test if args.split == "test" else split.valid)}
        samples = [by_user[r["user_id"]] for r in rows]
        sid_lists = [r["items"] for r in rows]
        tok = SIDTokenizer.load(args.tokenizer)
        text = dict(zip(ds.item_ids, ds.item_text(tok.config.embed.max_description_chars), strict=True))
        tok.add_items(cold, [text[i] for i in cold])
    else:
        from sidrec.generate import GenerateConfig, Recommender
        from sidrec.llm import torch_threads
        from sidrec.model import tokenizer_dir_for

        torch_threads()
        all_samples = split.test if args.split == "test" else split.valid
        samples = [s for s in all_samples if s.target in cold_set]
        samples += [s for s in all_samples if s.target not in cold_set][: args.warm_users]
        gen = GenerateConfig(new_item_place="off")  # the search's own lists; the rules below place new items
        rec = Recommender.from_dirs(args.model, tokenizer_dir_for(args.model, args.tokenizer), gen)
        text = dict(zip(ds.item_ids, ds.item_text(rec.sid_tok.config.embed.max_description_chars), strict=True))
        rec.add_items(cold, [text[i] for i in cold])
        seen = seen_items(samples, split)
        beams = rec.config.num_beams  # every item the beams hold, for the agree-N rules; the search's list: the first K
        beam_lists = [r.items for r in rec.recommend([list(s.history) for s in samples], k=beams, exclude=seen)]
        sid_lists = [b[:K] for b in beam_lists]
        tok = rec.sid_tok
    targets = [s.target for s in samples]
    histories = [list(s.history) for s in samples]
    seen = seen_items(samples, split)
    baseline = text_similarity(ds, tok.config.embed)
    vectors, rows = tok.text_embeddings(), tok.rows_of
    placed = np.array(rows(cold))
    new_lists = []  # per user, the new items by text nearness to the history, nearest first
    for h, no in zip(histories, seen, strict=True):
        sims = vectors[placed] @ vectors[rows(h)].mean(0)
        new_lists.append([cold[j] for j in np.argsort(-sims, kind="stable") if cold[j] not in no][:K])
    text_lists = baseline.recommend(histories, K, seen)
    history_rows, seen_rows = [rows(h) for h in histories], [set(rows(x)) for x in seen]
    sid_rows = [rows(s) for s in sid_lists]
    rules = {"sid": sid_lists, "tail-1": [blend(s, n, 1) for s, n in zip(sid_lists, new_lists, strict=True)],
             "tail-2": [blend(s, n, 2) for s, n in zip(sid_lists, new_lists, strict=True)],
             "text": text_lists}  # fmt: skip
    for n in (0, *TOP_N):  # the library's gate (GenerateConfig(new_item_top=n)) on the search's lists
        chosen = new_item_place(history_rows, sid_rows, seen_rows, vectors, placed, K, top=n)
        rules[f"gated-top{n}" if n else "gated"] = take_last(sid_lists, chosen, tok.item_ids)
    for n in args.agree:  # new items the text agrees with, then the default gate
        agreed = text_agrees(history_rows, [rows(b) for b in beam_lists], seen_rows, vectors, placed, K, top=n)
        chosen = new_item_place(history_rows, agreed, seen_rows, vectors, placed, K, top=TOP_N[-1])
        rules[f"agree-{n}"] = take_last([[tok.item_ids[r] for r in a] for a in agreed], chosen, tok.item_ids)
    groups = {"cold": [n for n, t in enumerate(targets) if t in cold_set]}
    groups["warm"] = [n for n in range(len(targets)) if n not in set(groups["cold"])]
    scores = {name: per_user(lists, targets) for name, lists in rules.items()}
    result = {"command": " ".join(sys.argv), "machine": machine(), "date": date.today().isoformat(),
              "split": args.split, "users": {g: len(ix) for g, ix in groups.items()}, "rules": {}}  # fmt: skip
    for name, s in scores.items():
        row = {}
        for g, ix in groups.items():
            m = s[ix]
            row[g] = {
                "recall@10": round(float(m[:, 0].mean()), 4), "ndcg@10": round(float(m[:, 1].mean()), 4),
                "recall@10_se": round(float(m[:, 0].std(ddof=1) / np.sqrt(len(ix))), 4),
                **{f"vs_sid_{key}": v for key, v in paired(m, scores["sid"][ix]).items()},
            }  # fmt: skip
            if name != "text":
                vs_text = paired(m, scores["text"][ix])
                row[g]["vs_text_recall@10"] = vs_text["recall@10"]
                row[g]["vs_text_recall@10_se"] = vs_text["recall@10_se"]
        result["rules"][name] = row
        print(name, json.dumps(row), file=sys.stderr)
    write_json_atomic(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
