"""Teaching a cold-start model its new items from their text: a short continued training, then the search asks the
model for each new item's own SID instead of scoring it as its cell.

A model trained under the cold-start protocol (`sidrec.coldstart`, e.g. by benchmarks/cold_start.sh) has never seen
the withheld items. Placed by their text (`add_items`), they join cells of known items with a separating code the
model never learned after that cell, so the search scores each as its whole cell (`placed_score="cell"`, the
default). Here the model is trained a little further on a mix of its own recipe's examples (replay, the withheld
items' interactions still withheld) and the textual and query examples of the new items under their placed SIDs
(title -> SID, SID -> title, need -> SID): no interaction with a new item is read. Then the new items are items like
any other (the tokenizer with them placed is the model's tokenizer) and the search ranks them by the model's own
probability of their full SID.

Three searches on the same users (the split's users whose target is withheld, and the first `--warm-users` others),
paired per user, and text similarity:
- untaught/cell: the model as trained, new items scored as their cell (the default route);
- taught/own: the taught model, new items scored by their own SID (the default gate still applies);
- taught/cell: the taught model, new items still scored as their cell (what the teaching did to the rest).

    PYTHONPATH=. python benchmarks/cold_teach.py benchmarks/work/cold_start/llm sample_data --split valid \\
        --out benchmarks/results/cold_teach_sample_valid.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.cold_rules import add_arguments, against_text, run_record, search_groups, split_users
from sidrec import device as devices
from sidrec.artifacts import write_json_atomic
from sidrec.coldstart import ColdConfig, withhold
from sidrec.data import split_dataset
from sidrec.generate import GenerateConfig, Recommender
from sidrec.llm import torch_threads
from sidrec.loss import ExampleDataset, LeftPadCollator, response_loss
from sidrec.model import TrainConfig, load_model, tokenizer_dir_for
from sidrec.tasks import _query, _rng, _sid_to_title, _title_to_sid, build_training_set
from sidrec.tokenizer import SIDTokenizer, load_keywords


def new_item_examples(new: list[str], items, tok: SIDTokenizer, keywords: dict, config) -> list:
    """Per new item: SID -> title, title -> SID and (when it can be built) need -> SID, under its placed SID."""
    rng = _rng(config, "new-items")
    out = []
    for iid in new:
        if str(items.at[iid, "title"]).strip():
            out += [_sid_to_title(iid, items, tok, rng), _title_to_sid(iid, items, tok, config, rng)]
        q = _query(iid, items, tok, keywords, rng)
        if q is not None:
            out.append(q)
    return out


def teach(model, llm_tok, examples: list, steps: int, batch_size: int, lr: float, seed: int, log) -> list[float]:
    """`steps` AdamW steps over `examples` (in a seeded order, cycled), the learning rate decayed linearly to
    zero, on the model's trainable parameters (LoRA and SID rows); returns the loss of each step."""
    device = devices.pick("auto")
    dtype = devices.autocast_dtype(device)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    data = ExampleDataset(examples, llm_tok, 256)
    collate = LeftPadCollator(llm_tok.pad_token_id)
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    losses, t0 = [], time.perf_counter()
    for step in range(steps):
        rows = [data[order[(step * batch_size + j) % len(order)]] for j in range(batch_size)]
        batch = {k: v.to(device) for k, v in collate(rows).items() if k not in ("task", "targets")}
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss, _, _ = response_loss(model, batch)
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(round(float(loss.detach()), 4))
        if (step + 1) % 10 == 0:
            log(f"step {step + 1}/{steps}: loss {np.mean(losses[-10:]):.4f} ({time.perf_counter() - t0:.0f} s)")
    model.eval()
    return losses


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap, warm_users=1000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--new-share", type=float, default=0.25, help="share of the examples about new items")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    log = lambda msg: print(f"# {msg}", file=sys.stderr, flush=True)  # noqa: E731
    torch_threads()
    ds, cold, split, groups = split_users(args)
    cold_set = set(cold)
    tok_dir = tokenizer_dir_for(args.model_dir, args.tokenizer)
    result = {
        **run_record(args, cold, groups),
        "teach": {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "new_share": args.new_share},
        "searches": {},
    }
    hits: dict = {}

    def search(name: str, rec: Recommender) -> None:
        t0 = time.perf_counter()
        row = {"unreachable": sum(rec.lacks_tokens(i) for i in cold)}
        row |= search_groups(rec, name, groups, split, cold_set, hits, "untaught/cell")
        row["seconds"] = round(time.perf_counter() - t0, 1)
        result["searches"][name] = row
        log(f"{name}: {json.dumps(row)}")

    # the model as trained: new items placed by their text and scored as their cell
    rec = Recommender.from_dirs(args.model_dir, tok_dir)
    text = dict(zip(ds.item_ids, ds.item_text(rec.sid_tok.config.embed.max_description_chars), strict=True))
    texts = [text[i] for i in cold]
    placed_sids = rec.add_items(cold, texts)
    search("untaught/cell", rec)
    del rec

    # the tokenizer with the new items placed (the same SIDs) becomes the model's tokenizer
    sid_tok = SIDTokenizer.load(tok_dir)
    model, llm_tok, manifest = load_model(args.model_dir, sid_tok.fingerprint())
    if sid_tok.add_items(cold, texts) != placed_sids:
        raise SystemExit("the new items were placed differently the second time")
    config = TrainConfig.from_dict(manifest["config"]).tasks
    keywords = load_keywords(tok_dir)
    trained_on = withhold(ds, ColdConfig(args.cold_items, args.cold_seed))
    known_tok = SIDTokenizer.load(tok_dir)  # replay as the model was trained: its negatives are drawn from known items
    replay = build_training_set(split_dataset(trained_on), trained_on.items, known_tok, keywords, config)
    new = new_item_examples(cold, ds.items, sid_tok, keywords, config)
    n_new = round(args.steps * args.batch_size * args.new_share)
    n_replay = args.steps * args.batch_size - n_new
    rng = random.Random(args.seed)
    examples = [new[i % len(new)] for i in range(n_new)] + rng.sample(replay, min(n_replay, len(replay)))
    result["teach"] |= {"new_item_examples": len(new), "examples": len(examples)}
    log(f"teaching: {len(new)} new-item examples (x{n_new / len(new):.1f}), {n_replay} replayed, {args.steps} steps")
    t0 = time.perf_counter()
    losses = teach(model, llm_tok, examples, args.steps, args.batch_size, args.lr, args.seed, log)
    result["teach"] |= {"seconds": round(time.perf_counter() - t0, 1), "loss_first_10": float(np.mean(losses[:10])),
                        "loss_last_10": float(np.mean(losses[-10:]))}  # fmt: skip
    merged = model.merge_and_unload()
    mode = config.sequential_mode
    rec = Recommender(merged, llm_tok, sid_tok, GenerateConfig(), mode)
    # scored by the model like known items (nothing is "placed" for the search), and the default gate still
    # offers the new items (rows from len(known_tok) on) a last place by their text
    rec.n_trained, rec._text = len(known_tok), sid_tok.text_embeddings()
    search("taught/own", rec)
    rec = Recommender(merged, llm_tok, known_tok, GenerateConfig(), mode)
    rec.add_items(cold, texts)
    search("taught/cell", rec)

    result["text"] = against_text(ds, sid_tok.config.embed, split, groups, result["searches"], hits)
    write_json_atomic(args.out, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
