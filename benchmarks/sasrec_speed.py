"""SASRec's training step: the loss over the positions that have a target (`SASRecNet.loss`) against scoring
every position of the padded windows and ignoring the padding (the loss before), on a dataset's real windows.

Both compute the same loss (tests/test_sasrec_grid.py); what differs is how many (position x item) logits are
formed. The two are timed in alternation in one process, on the same batches, so a busy machine slows both alike.

    PYTHONPATH=. python benchmarks/sasrec_speed.py ../shared/data/scientific \
        --out benchmarks/results/sasrec_speed_scientific.json
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

import torch
from torch import nn

from sidrec.artifacts import write_json_atomic
from sidrec.baselines import SASRec, SASRecConfig
from sidrec.bench import machine
from sidrec.data import load_dataset, split_dataset


def padded_loss(net, inp, tgt):
    logits = net(inp) @ net.item.weight.T  # (B, T, n+1): every position
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--out")
    args = ap.parse_args()
    ds = load_dataset(args.data)
    split = split_dataset(ds)
    model = SASRec(ds.item_ids, SASRecConfig(hidden=args.hidden, device="cpu"))
    data = model.windows(split.train_sequences.values())  # as SASRec.fit cuts them
    gen = torch.Generator().manual_seed(0)
    batches = [data[i] for i in torch.randperm(len(data), generator=gen).split(128)][: args.batches]
    opt = torch.optim.Adam(model.net.parameters(), lr=1e-3)
    seconds = {"every position": 0.0, "target positions": 0.0}
    fns = {"every position": lambda i, t: padded_loss(model.net, i, t), "target positions": model.net.loss}
    model.net.train()
    for n, batch in enumerate(batches):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            loss = fn(batch[:, :-1], batch[:, 1:])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if n:  # the first batch warms up
                seconds[name] += time.perf_counter() - t0
    per = {name: round(s * 1000 / (len(batches) - 1), 1) for name, s in seconds.items()}
    result = {
        "date": date.today().isoformat(),
        "machine": machine("cpu"),
        "threads": torch.get_num_threads(),
        "dataset": ds.name,
        "windows": len(data),
        "target_share": round(float((data[:, 1:] > 0).float().mean()), 3),
        "ms_per_batch": per,
        "speedup": round(per["every position"] / per["target positions"], 2),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        write_json_atomic(args.out, result)


if __name__ == "__main__":
    main()
