"""Time the first and second render of an app page (cold and warm caches).

    python benchmarks/app_render.py pages/codebook_explorer.py

Run 1 uses an empty SIDREC_CACHE in a fresh process (the UMAP projection and
its compilation included); run 2 is a second visit in the same session
(Streamlit's caches); run 3 a new process that finds the projection on disk.
Prints one JSON object.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_twice(page: str) -> list[float]:
    from streamlit.testing.v1 import AppTest

    times = []
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    for _ in range(2):
        start = time.perf_counter()
        at.switch_page(page)
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
        at.switch_page("webapp/pages/home.py")
        at.run()
    return times


def main() -> None:
    page = sys.argv[1] if len(sys.argv) > 1 else "webapp/pages/codebook_explorer.py"
    if os.environ.get("_RENDER_CHILD"):
        print(json.dumps(render_twice(page)))
        return
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "_RENDER_CHILD": "1", "SIDREC_CACHE": cache, "HF_HUB_OFFLINE": "1"}
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, __file__, page], env=env, capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = {
        "page": page,
        "first_render_cold_s": round(runs[0][0], 2),
        "second_visit_same_session_s": round(runs[0][1], 2),
        "new_session_disk_cache_s": round(runs[1][0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
