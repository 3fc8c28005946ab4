"""In-app latency of a live search on an idle machine, next to `bench decode` measured in the same run.

Starts the app, opens the Recommend page on the demo in headless Chromium, reads the "Latency" figure of the
first search and of `--repeats` more (the "Recommend" button searches again), then runs
`python -m sidrec bench decode models/sample/llm sample_data` for its per-user figure searched alone.

    python benchmarks/app_latency.py --out benchmarks/results/app_latency.json
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def app_latencies(repeats: int) -> list[float]:
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, streamlit_server, wait_for_script_done

    def latency(page) -> float:
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Latency").first
        return float(re.search(r"([\d,]+) ms", metric.inner_text()).group(1).replace(",", ""))

    out = []
    with streamlit_server("app_latency.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{base}/recommend?ws=sample", wait_until="domcontentloaded")
        wait_for_script_done(page, timeout_s=300)
        out.append(latency(page))
        for _ in range(repeats):
            page.get_by_role("button", name="Recommend").click()
            page.wait_for_timeout(300)
            wait_for_script_done(page, timeout_s=300)
            out.append(latency(page))
        browser.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from sidrec.bench import machine

    app = app_latencies(args.repeats)
    bench = subprocess.run(
        [sys.executable, "-m", "sidrec", "bench", "decode", "models/sample/llm", "sample_data", "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    decode = json.loads(bench.stdout.strip().splitlines()[-1])
    result = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "app_ms": app,
        "app_median_ms": statistics.median(app),
        "bench_decode_ms_per_user_alone": decode["ms_per_user_unbatched"],
        "bench_decode_ms_per_user_batched": decode["ms_per_user"],
        "ratio_app_to_alone": round(statistics.median(app) / decode["ms_per_user_unbatched"], 2),
    }
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
