"""Do a workspace's artifacts belong together? Tokenizer -> model -> cache and evaluation, by fingerprints.

Every artifact records what it was made from: a model the fingerprint of its SID tokenizer, a cache the
fingerprint of its model, an evaluation those of its model and tokenizer. `stale_artifacts` compares them with
the artifacts at hand and names each one that was made from something else, with what to rebuild. Files made
before an artifact recorded a fingerprint are not judged (there is nothing to compare).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sidrec.artifacts import read_manifest
from sidrec.errors import SidrecError


@dataclass(frozen=True)
class Stale:
    artifact: str  # "llm", "cache.sqlite", "evaluation.json"
    reason: str


def stale_artifacts(
    tokenizer_dir: Path | None,
    model_dir: Path | None,
    cache_path: Path | None = None,
    evaluation_path: Path | None = None,
) -> list[Stale]:
    """The artifacts that were made from another tokenizer or model than the ones given, each with a reason."""
    from sidrec.cache import TopKCache
    from sidrec.model import FORMAT_VERSION, KIND, model_fingerprint
    from sidrec.tokenizer import saved_fingerprint

    out: list[Stale] = []
    tok_fp = saved_fingerprint(tokenizer_dir) if tokenizer_dir is not None else None
    model_fp = None
    if model_dir is not None:
        try:
            manifest = read_manifest(model_dir, KIND, FORMAT_VERSION)
            model_fp = model_fingerprint(model_dir)
        except (SidrecError, OSError) as e:
            return [Stale("llm", f"cannot be read: {e}")]
        trained_on = manifest.get("tokenizer_fingerprint")
        if tok_fp is not None and trained_on and trained_on != tok_fp:
            out.append(Stale("llm", f"trained with another tokenizer ({trained_on}, the workspace's is {tok_fp})"))
    if cache_path is not None and model_fp is not None:
        try:
            cache = TopKCache(cache_path)
            try:
                built_by = cache.model_fingerprint
            finally:
                cache.close()
        except SidrecError as e:
            out.append(Stale("cache.sqlite", f"cannot be read: {e}"))
        else:
            if built_by != model_fp:
                out.append(Stale("cache.sqlite", f"built by another model ({built_by}, the workspace's is {model_fp})"))
    if evaluation_path is not None and model_fp is not None:
        try:
            evaluated = json.loads(Path(evaluation_path).read_text()).get("model_fingerprint")
        except (OSError, ValueError, AttributeError):
            evaluated = None
        if evaluated and evaluated != model_fp:
            out.append(Stale("evaluation.json", f"of another model ({evaluated}, the workspace's is {model_fp})"))
    return out
