"""Test-wide environment: offline hub, caches and workspaces under tests/artifacts (never the user's home).

Set at import time, before any sidrec or app module is imported.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SIDREC_CACHE", str(ARTIFACTS / "cache"))
os.environ.setdefault("SIDREC_WORKSPACES", str(ARTIFACTS / "workspaces"))


# ---------------------------------------------------------------- shared fixtures


@pytest.fixture(scope="session")
def rec_factory(tmp_path_factory):
    """Recommenders over the 14-item tree on the tiny random Llama: `make(**GenerateConfig fields)`."""
    from sidrec.generate import GenerateConfig, Recommender
    from sidrec.llm import add_sid_vocabulary, init_sid_rows, load_base
    from tests.tiny import make_sid_tok, tiny_base

    folder = tiny_base(tmp_path_factory.mktemp("tiny"))

    def make(**config):
        sid_tok = make_sid_tok()  # a fresh one each time: cold start adds items to it
        model, tok = load_base(folder)
        n_base = model.get_input_embeddings().weight.shape[0]
        ids = add_sid_vocabulary(model, tok, sid_tok.tokens())
        init_sid_rows(model, tok, ids, [[]] * len(ids), "random", n_base_rows=n_base, seed=1)
        return Recommender(model, tok, sid_tok, GenerateConfig(**config))

    return make
