"""Artifacts that do not belong together are named, each with the reason: tokenizer -> model -> cache, evaluation."""

import json
import shutil
from pathlib import Path

from sidrec.cache import TopKCache
from sidrec.lineage import stale_artifacts
from sidrec.model import model_fingerprint

DEMO = Path(__file__).resolve().parents[1] / "models" / "sample"


def test_the_demo_artifacts_belong_together():
    assert stale_artifacts(DEMO / "tokenizer", DEMO / "llm", DEMO / "cache.sqlite", DEMO / "evaluation.json") == []


def test_a_refit_tokenizer_makes_the_model_stale(tmp_path):
    tok = tmp_path / "tokenizer"
    tok.mkdir()
    manifest = json.loads((DEMO / "tokenizer" / "manifest.json").read_text())
    manifest["fingerprint"] = "0000000000000000"
    (tok / "manifest.json").write_text(json.dumps(manifest))
    (stale,) = stale_artifacts(tok, DEMO / "llm")
    assert stale.artifact == "llm" and "0000000000000000" in stale.reason


def test_a_cache_or_evaluation_of_another_model_is_stale(tmp_path):
    other = TopKCache(tmp_path / "cache.sqlite", "another-model", k=10)
    other.close()
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"model_fingerprint": "another-model", "models": {}}))
    stale = stale_artifacts(DEMO / "tokenizer", DEMO / "llm", tmp_path / "cache.sqlite", evaluation)
    assert [s.artifact for s in stale] == ["cache.sqlite", "evaluation.json"]
    assert all("another-model" in s.reason and model_fingerprint(DEMO / "llm") in s.reason for s in stale)


def test_an_evaluation_without_a_fingerprint_is_not_judged(tmp_path):
    shutil.copy(DEMO / "evaluation.json", tmp_path / "evaluation.json")
    data = json.loads((tmp_path / "evaluation.json").read_text())
    data.pop("model_fingerprint", None)
    (tmp_path / "evaluation.json").write_text(json.dumps(data))
    assert stale_artifacts(DEMO / "tokenizer", DEMO / "llm", None, tmp_path / "evaluation.json") == []
