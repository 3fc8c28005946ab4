"""The Evaluate and Walkthrough pages through the app's navigation (Streamlit AppTest).

Workspaces in a private root: `bare` (the sample's files, no artifact), `full` (the sample tokenizer, a fake
evaluation.json and ablation.json, a model folder with a manifest and a loss log but no weights, a one-user top-K
cache), and the built-in sample. Checked: both pages render everywhere; the drill-down says hit or miss with the rank
and the level where the target left the beams; the Recall@K curve agrees with the stored Recall@5/10; the form writes
evaluation.json to the workspace; and no LLM is loaded unless "Recommend live" is pressed.
"""

import importlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sidrec.ablation import recipe_evidence
from sidrec.artifacts import write_json_atomic, write_manifest
from sidrec.cache import TopKCache, history_hash
from sidrec.data import item_popularity, load_dataset, split_dataset
from sidrec.explore import walkthrough_user
from sidrec.generate import Recommendation, Recommender
from sidrec.metrics import summarize
from sidrec.model import FORMAT_VERSION, KIND, TrainConfig, model_fingerprint
from sidrec.tokenizer import SIDTokenizer, token
from webapp.workspace import create_workspace, sample_workspace

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
FILES = ("items.csv", "interactions.csv")
HIT_RANKS = (1, 3, 7)  # the first three users; the next three are misses, leaving the beams at levels 1, 2, 3
ABLATION = {
    "steps": 40,
    "tokenizer_fingerprint": "0123456789abcdef",  # not the workspace's tokenizer: the page says so
    "rows": [
        {"variant": "default (sa, all tasks)", "valid_loss": 2.1, "train_loss": 2.0, "steps": 40},
        {"variant": "init random", "valid_loss": 2.9, "train_loss": 2.7, "steps": 40},
        {"variant": "tokenizer: text embedding only", "valid_loss": 1.5, "train_loss": 1.4, "steps": 40},
    ],
}


RECIPE_RUNS = [  # Recall@10 and NDCG@10 per run, with their standard errors over users
    {"variant": v, "seed": seed, "metrics": {"recall@10": r, "ndcg@10": n},
     "standard_errors": {"recall@10": 0.01, "ndcg@10": 0.005}}
    for v, seed, r, n in [("full recipe", 0, 0.40, 0.21), ("full recipe", 1, 0.41, 0.22), ("without x", 0, 0.30, 0.16)]
]  # fmt: skip


SASREC_GRID = [  # two settings of SASRec's grid, the second the winner
    {"hidden": h, "dropout": d, "max_len": 20, "epochs": e, "best_valid_ndcg@10": v, "winner": w}
    for h, d, e, v, w in [(64, 0.2, 30, 0.05, False), (128, 0.5, 40, 0.06, True)]
]


def fake_evaluation(data_dir: Path) -> dict:
    """evaluate()'s result shape for six test users, with hits and misses placed by hand."""
    ds = load_dataset(data_dir)
    popular = list(item_popularity(ds.sequences).index)
    per_user = []
    for n, s in enumerate(split_dataset(ds).test[:6]):
        items = [i for i in popular if i != s.target][:10]
        rank = HIT_RANKS[n] if n < len(HIT_RANKS) else None
        if rank:
            items = [*items[: rank - 1], s.target, *items[rank - 1 : 9]]
        per_user.append({"user_id": s.user_id, "history": list(s.history), "target": s.target, "items": items,
                         "rank": rank, "diverged_at_level": None if rank else n - len(HIT_RANKS)})  # fmt: skip
    llm = summarize([u["items"] for u in per_user], [u["target"] for u in per_user])
    return {
        "dataset": ds.name, "split": "test", "protocol": "leave-one-out", "users": len(per_user), "seconds": 1.0,
        "models": {"sid-llm": llm, "popularity": {"recall@5": 0.1, "ndcg@5": 0.05, "recall@10": 0.2, "ndcg@10": 0.08},
                   "sasrec": {"recall@5": 0.2, "ndcg@5": 0.1, "recall@10": 0.3, "ndcg@10": 0.12}},
        "timings": {"sid-llm_ms_per_user": 120.0, "sasrec_train_seconds": 3.0},
        "sasrec_tuned": {"folder": "sasrec", "grid": SASREC_GRID, "winner": SASREC_GRID[1]},
        "per_user": per_user,
    }  # fmt: skip


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_pages")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIDREC_WORKSPACES", str(root))
        files = {name: (ROOT / "sample_data" / name).read_bytes() for name in FILES}
        bare = create_workspace("bare", files)
        full = create_workspace("full", files)
        tok_dir = full.artifact_path_for_writing("tokenizer")
        shutil.copytree(sample_workspace().artifact("tokenizer"), tok_dir)
        tok = SIDTokenizer.load(tok_dir)
        result = {**fake_evaluation(full.data_dir), "tokenizer_fingerprint": tok.fingerprint()}
        write_json_atomic(full.artifact_path_for_writing("evaluation.json"), result)
        write_json_atomic(full.artifact_path_for_writing("ablation.json"), ABLATION)
        write_json_atomic(full.artifact_path_for_writing("recipe.json"), recipe_evidence(RECIPE_RUNS))
        llm = full.artifact_path_for_writing("llm")  # a manifest and a loss log, no weights: nothing can load it
        llm.mkdir()
        write_manifest(llm, KIND, FORMAT_VERSION, asdict(TrainConfig()), tokenizer_fingerprint=tok.fingerprint(),
                       metrics={"valid_loss": 1.5, "train_loss": 1.4, "steps": 2})  # fmt: skip
        write_json_atomic(
            llm / "log.json", [{"step": 1, "loss": 3.0, "loss_sequential": 3.5}, {"step": 2, "loss": 2.0}]
        )
        (llm / "adapter.safetensors").write_bytes(b"weights no test loads")  # what the model's fingerprint hashes
        user, history = walkthrough_user(load_dataset(full.data_dir).sequences, tok)
        cache = TopKCache(full.artifact_path_for_writing("cache.sqlite"), model_fingerprint(llm), k=10)
        cache.put_many([(user, tok.item_ids[:10], [-float(n) for n in range(10)], history_hash(history))])
        cache.close()
        yield {"bare": bare, "full": full, "result": result, "tok": tok, "user": user}


class Loads:
    """Records every attempt to load an LLM; `model` is what Recommender.from_dirs hands back (None: refuse)."""

    def __init__(self, monkeypatch, model=None):
        self.calls = []
        self.model = model

        def from_dirs(cls, model_dir, tokenizer_dir, config=None):
            self.calls.append(str(model_dir))
            if self.model is None:
                raise AssertionError("an LLM was loaded")
            return self.model

        def load_model(folder, *args, **kwargs):
            self.calls.append(str(folder))
            raise AssertionError("an LLM was loaded")

        monkeypatch.setattr(Recommender, "from_dirs", classmethod(from_dirs))
        monkeypatch.setattr("sidrec.model.load_model", load_model)


class FakeRecommender:
    def __init__(self, items, sid_tok=None):
        self.items = items
        self.sid_tok = sid_tok

    def recommend(self, histories, k=None, num_beams=None, exclude=None):
        return [Recommendation(self.items[:k], [""] * k, [0.0] * k, timings={"total_ms": 1.0}) for _ in histories]

    def warm(self) -> float:
        return 0.0


def open_page(ws: str, page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def values(array) -> list:
    """A plotly figure's array as a list: plain, or typed ({"dtype", "bdata": base64}) as plotly express writes."""
    if isinstance(array, dict):
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def figure(at: AppTest, title: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return spec
    raise AssertionError(f"no chart titled {title!r}")


@pytest.mark.parametrize("page", ["webapp/pages/evaluate.py", "webapp/pages/walkthrough.py"])
def test_pages_render_on_the_sample_and_without_artifacts(workspaces, page, monkeypatch):
    loads = Loads(monkeypatch)
    at = open_page("sample", page)
    if page == "webapp/pages/evaluate.py":  # the demo's evaluation, once it is there
        if sample_workspace().artifact("evaluation.json") is None:
            assert "No evaluation yet" in texts(at.info)
        else:
            assert at.dataframe[0].value.columns[0] == "model" and figure(at, "Recall@K")
    bare = open_page("bare", page)
    infos = texts(bare.info)
    if page == "webapp/pages/evaluate.py":
        assert "No evaluation yet" in infos and "No ablation table" in infos and "No recipe evidence" in infos
        assert "python -m sidrec evaluate " in infos and "python -m sidrec bench ablation " in infos
        assert bare.button[0].label == "Run evaluation" and not bare.get("plotly_chart")
    else:
        assert "no tokenizer yet" in infos and "no aligned model yet" in infos and "No evaluation yet" in infos
        for command in ("tokenizer fit", "llm train", "cache build", "evaluate"):
            assert f"python -m sidrec {command} " in infos
        assert not any(b.label == "Recommend live" for b in bare.button)
    assert loads.calls == []


def test_evaluate_shows_metrics_curve_and_ablation(workspaces, monkeypatch):
    loads = Loads(monkeypatch)
    at = open_page("full", "webapp/pages/evaluate.py")
    result = workspaces["result"]
    table = at.dataframe[0].value
    assert list(table["model"]) == ["sid-llm", "popularity", "sasrec"]
    assert table.set_index("model").loc["sid-llm", "recall@10"] == result["models"]["sid-llm"]["recall@10"] == 0.5
    curve = figure(at, "Recall@K")
    llm = next(t for t in curve["data"] if t["name"] == "sid-llm")
    assert llm["x"] == list(range(1, 11))
    assert llm["y"][0] == pytest.approx(1 / 6) and llm["y"][-1] == pytest.approx(0.5)
    for k in (5, 10):  # the curve read from ranks agrees with the stored metric
        assert llm["y"][k - 1] == pytest.approx(result["models"]["sid-llm"][f"recall@{k}"], abs=1e-4)
    tuned = "SASRec tuned on validation: hidden 128, dropout 0.5, max length 20 (validation NDCG@10 0.0600, best of 2"
    assert any(c.value.startswith(tuned) for c in at.caption)
    grid = next(d.value for d in at.dataframe if "best_valid_ndcg@10" in d.value)
    assert list(grid["winner"]) == [False, True]
    assert {t["name"]: t["x"] for t in curve["data"] if t["name"] != "sid-llm"} == {"popularity": [5, 10],
                                                                                     "sasrec": [5, 10]}  # fmt: skip
    ablation = figure(at, "Validation loss per variant")["data"][0]
    assert list(ablation["x"]) == ["default (sa, all tasks)", "init random"]  # other codes' loss does not compare
    assert any(c.value.startswith("Tokenizer variants are left out of the loss chart") for c in at.caption)
    ours = workspaces["tok"].fingerprint()
    other = f"Made on another tokenizer (0123456789abcdef) than the evaluated model's ({ours})"
    assert other in texts(at.warning)
    # the recipe, part by part: 0.30 against a mean of 0.405 over two seeds, standard error sqrt(2) * 0.01
    assert "without x (1 seed): worse than the full recipe on Recall@10 (-0.1050 ± 0.0141)" in texts(at.markdown)
    recipe = next(d.value for d in at.dataframe if "Δ recall@10" in d.value)
    assert list(recipe["Δ recall@10"]) == ["reference", "-0.1050 ± 0.0141 (worse)"]
    bars = figure(at, "Against the full recipe (± two standard errors)")["data"]
    assert [b["name"] for b in bars] == ["recall@10", "ndcg@10"]
    assert bars[0]["x"] == [pytest.approx(-0.105)] and bars[0]["error_x"]["array"] == [pytest.approx(0.0282)]
    assert loads.calls == []


def test_drill_down_says_hit_or_miss(workspaces, monkeypatch):
    loads = Loads(monkeypatch)
    at = open_page("full", "webapp/pages/evaluate.py")
    per_user = workspaces["result"]["per_user"]
    tok = workspaces["tok"]
    assert "Hit: the item bought next is at rank 1 of 10" in texts(at.success)
    ranked = at.dataframe[-2].value  # the model's list, then the target's tokens
    assert ranked.loc[ranked["target"] == "🎯", "rank"].tolist() == [1]
    assert "survived every level" in texts(at.markdown)

    at.radio(key="eval_filter").set_value("misses").run()
    assert not at.exception, [e.value for e in at.exception]
    user = at.selectbox(key="eval_user_misses")
    assert user.options[0].startswith(per_user[3]["user_id"]) and user.options[0].endswith("miss")
    user.set_value(5).run()  # the third miss: its prefix left the beams at the third level
    assert "Miss: the item bought next is not among the 10" in texts(at.error)
    codes = tok.codes_of(per_user[5]["target"])
    assert f"left the beams at **level 3** (token `<c_{codes[2]}>`)" in texts(at.markdown)
    tokens = at.dataframe[-1].value
    assert tokens["token"].tolist() == [token(lv, c) for lv, c in enumerate(codes)]
    assert tokens["prefix"].tolist() == ["kept in the beams"] * 2 + ["left the beams here"] + ["—"] * (len(codes) - 3)
    assert (tokens["keywords"] != "").all()

    at.radio(key="eval_filter").set_value("hits").run()
    at.selectbox(key="eval_user_hits").set_value(1).run()
    assert "at rank 3 of 10" in texts(at.success)
    assert not at.error and loads.calls == []


def test_drill_down_shows_no_sid_of_a_tokenizer_the_evaluation_did_not_read(workspaces, monkeypatch):
    full = workspaces["full"]
    refit = create_workspace("refit", {name: (full.data_dir / name).read_bytes() for name in FILES})
    shutil.copytree(full.artifact("tokenizer"), refit.artifact_path_for_writing("tokenizer"))
    write_json_atomic(refit.artifact_path_for_writing("evaluation.json"),
                      {**workspaces["result"], "tokenizer_fingerprint": "0123456789abcdef"})  # fmt: skip
    Loads(monkeypatch)
    at = open_page("refit", "webapp/pages/evaluate.py")
    assert "read the SIDs of another tokenizer (0123456789abcdef)" in texts(at.caption)
    ranked = at.dataframe[-1].value  # the model's list, and no token table after it
    assert "rank" in ranked.columns and (ranked["SID"] == "").all()


def test_a_refit_tokenizer_makes_the_model_another_version(workspaces):
    import os

    from webapp.ui import model_key

    full = workspaces["full"]
    pair = create_workspace("pair", {name: (full.data_dir / name).read_bytes() for name in FILES})
    for kind in ("tokenizer", "llm"):
        shutil.copytree(full.artifact(kind), pair.artifact_path_for_writing(kind))
    before = model_key(pair)
    manifest = pair.artifact("tokenizer") / "manifest.json"
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 10**9))  # saved again
    assert model_key(pair) != before  # so the loaded model is loaded (and checked against it) again


def test_run_evaluation_writes_the_result(workspaces, monkeypatch):
    """The form's values reach evaluate(); its result is saved to the workspace and shown at once."""
    loads = Loads(monkeypatch)
    ws = create_workspace("runs", {name: (workspaces["bare"].data_dir / name).read_bytes() for name in FILES})
    seen = []

    def fake_evaluate(model_dir, data, config, progress=None):
        seen.append((model_dir, Path(data), config))
        progress(0.5, "halfway")
        models = {name: workspaces["result"]["models"][name] for name in ("popularity", "sasrec")}
        return {"dataset": "sample_data", "split": config.split, "protocol": "leave-one-out", "users": 3,
                "seconds": 2.0, "models": models, "timings": {}, "per_user": []}  # fmt: skip

    monkeypatch.setattr("sidrec.evaluate.evaluate", fake_evaluate)
    at = open_page("runs", "webapp/pages/evaluate.py")
    next(s for s in at.selectbox if s.label == "Split").set_value("valid")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    [(model_dir, data, config)] = seen
    assert model_dir is None and data == ws.data_dir
    assert (config.split, config.max_users, config.num_beams, config.k) == ("valid", 200, 20, 10)
    saved = json.loads(ws.artifact_path_for_writing("evaluation.json").read_text())
    assert saved["split"] == "valid" and saved["config"]["model_dir"] is None and saved["config"]["max_users"] == 200
    assert "Evaluated 3 users" in texts(at.success)
    assert list(at.dataframe[0].value["model"]) == ["popularity", "sasrec"]
    assert "Per-user results come with an evaluation of the SID-LLM" in texts(at.info)
    assert loads.calls == []


def test_an_evaluation_that_cannot_be_saved_is_still_shown(workspaces, monkeypatch):
    Loads(monkeypatch)
    create_workspace("fulldisk", {name: (workspaces["bare"].data_dir / name).read_bytes() for name in FILES})
    models = {name: workspaces["result"]["models"][name] for name in ("popularity", "sasrec")}
    module = importlib.import_module("sidrec.evaluate")  # the package's `sidrec.evaluate` is the function
    monkeypatch.setattr(module, "evaluate", lambda *a, **k: {
        "dataset": "d", "split": "test", "users": 3, "seconds": 2.0, "models": models, "per_user": []})  # fmt: skip

    def disk_full(path, obj):
        raise OSError("No space left on device")

    monkeypatch.setattr("sidrec.artifacts.write_json_atomic", disk_full)
    at = open_page("fulldisk", "webapp/pages/evaluate.py")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Evaluated 3 users, but the result could not be saved: No space left on device" in texts(at.error)
    assert list(at.dataframe[0].value["model"]) == ["popularity", "sasrec"]


def test_walkthrough_reads_artifacts_and_loads_the_model_only_on_request(workspaces, monkeypatch):
    tok = workspaces["tok"]
    loads = Loads(monkeypatch, FakeRecommender(tok.item_ids[5:15], tok))
    at = open_page("full", "webapp/pages/walkthrough.py")
    assert [s.value for s in at.subheader] == [
        "1. The catalogue", "2. How an item becomes a semantic ID", "3. What a token means",
        "4. How the language model was aligned", "5. A live recommendation", "6. The cached answer",
        "7. Against the baselines",
    ]  # fmt: skip
    assert figure(at, "Training loss per task")
    cached = at.dataframe[-1].value
    assert cached["title"].tolist() == [load_dataset(workspaces["full"].data_dir).items["title"][i]
                                        for i in tok.item_ids[:5]]  # fmt: skip
    assert loads.calls == [], "nothing is loaded before the button is pressed"

    next(b for b in at.button if b.label == "Recommend live").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(loads.calls) == 1
    live = at.dataframe[-2].value  # the live list, then the cached one
    assert live["SID"].tolist() == [tok.encode(i) for i in tok.item_ids[5:10]]
    assert [m.label for m in at.metric] == ["Latency"]
    assert "0 of the 5 live items are in it" in texts(at.markdown)

    # a cache of another model is not compared with this model's live list
    other = create_workspace("other", {name: (workspaces["full"].data_dir / name).read_bytes() for name in FILES})
    for kind in ("tokenizer", "llm", "cache.sqlite"):
        copy = shutil.copytree if kind != "cache.sqlite" else shutil.copy
        copy(workspaces["full"].artifact(kind), other.artifact_path_for_writing(kind))
    (other.artifact("llm") / "adapter.safetensors").write_bytes(b"retrained weights")
    at = open_page("other", "webapp/pages/walkthrough.py")
    next(b for b in at.button if b.label == "Recommend live").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "built by another model" in texts(at.warning) and "live items are in it" not in texts(at.markdown)


def test_evaluate_shows_cold_and_warm_targets_side_by_side(workspaces, monkeypatch):
    from sidrec.coldstart import REFERENCE, by_target

    loads = Loads(monkeypatch)
    ws = create_workspace("coldws", {name: (ROOT / "sample_data" / name).read_bytes() for name in FILES})
    targets, cold = ["c1", "c2", "w1", "w2"], {"c1", "c2"}
    run_lists = {"sid-llm": [["c1"], ["x"], ["w1"], ["x"]], "sasrec": [["x"], ["x"], ["w1"], ["w2"]]}
    ref_lists = {"sid-llm": [["c1"], ["c2"], ["w1"], ["w2"]], "sasrec": [["c1"], ["x"], ["w1"], ["w2"]]}

    def result(lists, seed=0):
        info = {"fraction": 0.05, "seed": seed, "items": 2, "placed": 2, "unreachable": 1}
        return {"dataset": "d", "users": 4, "cold_start": info, "by_target": by_target(lists, targets, cold)}

    write_json_atomic(ws.artifact_path_for_writing("cold_start.json"), result(run_lists))
    write_json_atomic(ws.artifact_path_for_writing("cold_start_reference.json"), result(ref_lists))
    at = open_page("coldws", "webapp/pages/evaluate.py")
    table = next(d.value for d in at.dataframe if "recall@10 · cold" in d.value.columns).set_index("model")
    assert table.loc["sid-llm", "recall@10 · cold"] == "0.5000 ± 0.5000"  # one of two cold targets found
    assert table.loc["sasrec", "recall@10 · cold"] == "0.0000 ± 0.0000"
    assert table.loc["sasrec", f"recall@10 · {REFERENCE}"] == "1.0000 ± 0.0000"
    chart = figure(at, "Recall@10 on cold and warm targets")
    bars = {t["name"]: dict(zip(t["x"], values(t["y"]), strict=True)) for t in chart["data"]}
    assert bars == {"cold": {"sid-llm": 0.5, "sasrec": 0.0}, "warm": {"sid-llm": 0.5, "sasrec": 1.0},
                    REFERENCE: {"sid-llm": 1.0, "sasrec": 1.0}}  # fmt: skip
    assert "2 test users with a cold target" in texts(at.caption) and "1 placed items got a token" in texts(at.caption)

    # a reference of another draw is not mixed in: a warning, and the run alone
    write_json_atomic(ws.artifact_path_for_writing("cold_start_reference.json"), result(ref_lists, seed=1))
    at = open_page("coldws", "webapp/pages/evaluate.py")
    assert "another draw" in texts(at.warning)
    assert {t["name"] for t in figure(at, "Recall@10 on cold and warm targets")["data"]} == {"cold", "warm"}
    assert loads.calls == []
