"""Text-embedding speed and fidelity per arithmetic, on this CPU and with its vector units capped at AVX2.

For each instruction-set setting (the machine's own, and AVX2 only: ATEN_CPU_CAPABILITY=avx2,
ONEDNN_MAX_CPU_ISA=AVX2, MKL_ENABLE_INSTRUCTIONS=AVX2, which is what a CPU without AVX-512 runs) a fresh
process encodes the catalogue's item texts in float32, bfloat16 (autocast) and int8 (dynamic quantization of
the linear layers), alternating the arithmetics over `--rounds` rounds, and reports items per second (the best
round) and how well each one's item neighbours agree with float32's: the mean share of each item's 10 nearest
items (cosine) that float32 also puts among its 10 nearest.

    python benchmarks/text_embedding.py ../shared/data/scientific --out benchmarks/results/text_embedding.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ARITHMETICS = ("float32", "bfloat16", "int8")
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def neighbour_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest rows in `a` that are also among its k nearest in `b` (self excluded)."""

    def nearest(x: np.ndarray) -> np.ndarray:
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        return np.argpartition(-sims, k, axis=1)[:, :k]

    na, nb = nearest(a), nearest(b)
    return float(np.mean([len(set(r) & set(s)) / k for r, s in zip(na, nb, strict=True)]))


def child(data: Path, rounds: int) -> dict:
    import torch

    from sidrec.data import load_dataset
    from sidrec.embed import encode_texts
    from sidrec.llm import torch_threads

    torch_threads()
    texts = load_dataset(data).item_text()
    best, out = {}, {}
    for name in ARITHMETICS:
        encode_texts(texts[:64], use_cache=False, precision=name)  # load and warm outside the timing
    for _ in range(rounds):
        for name in ARITHMETICS:
            t0 = time.perf_counter()
            out[name] = encode_texts(texts, use_cache=False, precision=name)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    rows = [
        {
            "arithmetic": name,
            "items_per_second": round(len(texts) / best[name], 1),
            "speedup_vs_float32": round(best["float32"] / best[name], 2),
            "neighbour_agreement@10": round(neighbour_agreement(out[name], out["float32"]), 4),
        }
        for name in ARITHMETICS
    ]
    return {"items": len(texts), "cpu_capability": torch.backends.cpu.get_cpu_capability(), "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.data, args.rounds)))
        return 0
    from sidrec.artifacts import write_json_atomic
    from sidrec.bench import machine

    settings = {}
    for label, env in (("native", {}), ("avx2", AVX2)):
        cmd = [sys.executable, __file__, str(args.data), "--rounds", str(args.rounds), "--child"]
        done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        settings[label] = {"env": env, **json.loads(done.stdout.strip().splitlines()[-1])}
        print(label, json.dumps(settings[label]), file=sys.stderr, flush=True)
    result = {"data": str(args.data), "machine": machine(), "date": time.strftime("%Y-%m-%d"), "settings": settings}
    if args.out:
        write_json_atomic(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
