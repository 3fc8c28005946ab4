"""sidrec: generative recommendation with semantic IDs.

A compact library: datasets -> item embeddings -> codebook tokenizer ->
token keywords -> aligned LLM -> constrained generation -> cache -> evaluation.
It knows nothing of the app that sits on top of it.

The public API, in data-flow order (imported on first use, so `import sidrec` stays light):

    ds = sidrec.load_dataset("sample_data")                    # a catalogue and its histories
    fit = sidrec.fit_catalogue(ds, sidrec.TokenizerConfig())   # items -> semantic IDs, tokens -> keywords
    fit.save("my/tokenizer")
    sidrec.train_llm(ds, "my/tokenizer", "my/llm", sidrec.TrainConfig(max_steps=300))
    rec = sidrec.Recommender.from_dirs("my/llm", "my/tokenizer")
    rec.recommend([ds.sequences["U0001"]], k=10)[0].items     # top-10 new items for one history
    sidrec.evaluate("my/llm", "sample_data", sidrec.EvalConfig(max_users=200))
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Dataset": "sidrec.data",
    "load_dataset": "sidrec.data",
    "split_dataset": "sidrec.data",
    "TokenizerConfig": "sidrec.tokenizer",
    "SIDTokenizer": "sidrec.tokenizer",
    "fit_catalogue": "sidrec.pipeline",
    "import_published": "sidrec.pipeline",
    "TaskConfig": "sidrec.tasks",
    "TrainConfig": "sidrec.model",
    "train_llm": "sidrec.pipeline",
    "GenerateConfig": "sidrec.generate",
    "Recommender": "sidrec.generate",
    "Recommendation": "sidrec.generate",
    "TopKCache": "sidrec.cache",
    "build_cache": "sidrec.cache",
    "EvalConfig": "sidrec.evaluate",
    "evaluate": "sidrec.evaluate",
    "SidrecError": "sidrec.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sidrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
