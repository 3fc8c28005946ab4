"""Test-wide environment: offline hub, caches and workspaces under tests/artifacts (never the user's home).

Set at import time, before any sidrec or app module is imported.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SIDREC_CACHE", str(ARTIFACTS / "cache"))
os.environ.setdefault("SIDREC_WORKSPACES", str(ARTIFACTS / "workspaces"))
