"""Constrained beam search over SIDs: the model may only ever name real items.

For a batch of users: encode each prompt once, then run exactly L steps
(L = tokens per SID). At step l the beams score the SID tokens of level l, the
prefix trie masks the codes a beam may take, and the best beams over all
(beam, code) pairs are kept. The result is the top-K items with their
log-probabilities, the beams kept at every level and per-step timings. A live
beam whose state has no children raises: there is no silent fallback to
unconstrained decoding.

Scores: score="vocab" (default) normalises over the whole vocabulary, as the
reference `generate` path does, so both return the same lists; score="level"
normalises over the level's SID tokens only (no full output head per beam);
score="allowed" normalises at every step over the codes that continue a real
item's SID, so an item's score is its log-probability under the model's
distribution over real items (every item's exp(score) sums to 1), whatever
mass the model put on codes no item carries.

Speed: a model loaded from disk has its LoRA merged into the base weights (the
same logits to float32 rounding, one matmul per projection instead of three),
and the beams of a user share one copy of its prompt cache (`shared_prefix`;
models it does not support copy the cache to every beam instead).

What a search may return (the history rule) and how it scores items placed after training
(cold start) are `sidrec.search_rules`.

`constrained=False` drops the trie (comparison only: it reports invalid SIDs).
`sidrec.reference.hf_generate` is the reference implementation with `transformers`
`generate(num_beams=..., prefix_allowed_tokens_fn=...)`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from sidrec import device as devices
from sidrec import search_rules, shared_prefix
from sidrec.errors import SidrecError, one_of
from sidrec.llm import model_input
from sidrec.placement import PlacementConfig
from sidrec.prompts import recommendation_input
from sidrec.search_rules import NEW_ITEM_PLACES, PLACED_SCORES
from sidrec.shared_prefix import SharedPrefixCache
from sidrec.tasks import TaskConfig
from sidrec.token_space import level_tokens
from sidrec.tokenizer import SIDTokenizer, token
from sidrec.trie import PrefixTrie

SCORES = ("vocab", "level", "allowed")


@dataclass(frozen=True)
class GenerateConfig:
    num_beams: int = 20
    top_k: int = 10
    score: str = "vocab"  # vocab | level | allowed (see module docstring)
    max_history: int = 20
    batch_size: int = 8  # users per forward pass (on a GPU: as many as its free memory holds, at least this)
    shared_prefix: bool = True  # one prompt cache per user, not per beam (Llama-family models; see shared_prefix)
    exclude_history: bool = True  # never return an item already in the user's history (False: repeats allowed)
    device: str = "auto"  # auto (CUDA, then MPS, then CPU) | cpu | cuda | cuda:N | mps
    placed_score: str = "cell"  # cell | share | mate: how items placed after training are scored (search_rules)
    placed_weight: float = 1.0  # 0 < w <= 1: a placed item's probability times w (search_rules.placed_shares)
    new_item_place: str = "gated"  # gated | off: a placed item may take a list's last place by its text (search_rules)
    new_item_top: int = 10  # > 0: the gate opens only for one of the N catalogue items nearest the history by text

    def __post_init__(self):
        one_of(self.score, SCORES, "score")
        one_of(self.placed_score, PLACED_SCORES, "placed-item score")
        search_rules.check_placed_weight(self.placed_weight)
        one_of(self.new_item_place, NEW_ITEM_PLACES, "new-item place")
        if self.new_item_top < 0:
            raise SidrecError(f"new_item_top must be 0 (no check) or more, got {self.new_item_top}")
        for name in ("num_beams", "top_k", "max_history", "batch_size"):
            if getattr(self, name) < 1:
                raise SidrecError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class Recommendation:
    items: list[str]  # best first; only real items when constrained
    sids: list[str]
    scores: list[float]  # sum of log-probabilities of the SID tokens
    beams: list[list[tuple[str, float]]] = field(default_factory=list)  # per level: prefixes kept, with scores
    timings: dict = field(default_factory=dict)  # encode_ms, step_ms, total_ms (shared by the batch)
    invalid: int = 0  # unconstrained only: returned sequences that are not an item's SID
    by_text: str | None = None  # a placed item that took the last place by its text (search_rules.new_item_place)


def _decoder(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_decoder(), base


class Recommender:
    """A model, its LLM tokenizer and the SID tokenizer it was trained with, ready to recommend.

    `sequential_mode` is the format the model was trained in (`TaskConfig.sequential_mode`; a model
    loaded from disk reads it from its manifest): the search writes histories exactly that way.
    """

    def __init__(
        self,
        model,
        llm_tokenizer,
        sid_tokenizer: SIDTokenizer,
        config: GenerateConfig = GenerateConfig(),
        sequential_mode: str = TaskConfig.sequential_mode,
    ):
        self.device = devices.pick(config.device)
        devices.enable_fast_matmul(self.device)
        self.model = model.eval().to(self.device)
        self.batch_size = devices.search_batch_size(self.device, config.batch_size, config.num_beams)
        self.sequential_mode = sequential_mode
        self.llm_tok = llm_tokenizer
        self.sid_tok = sid_tokenizer
        self.config = config
        self.decoder, self.base = _decoder(model)
        self.trie = PrefixTrie(sid_tokenizer.codes)
        self.shared_prefix = config.shared_prefix and shared_prefix.supports(self.decoder)
        self.n_trained = len(sid_tokenizer)  # item rows the model was trained on; later rows were placed
        self._placed: tuple[torch.Tensor, torch.Tensor] | None = None  # see _share_cells
        self._text: np.ndarray | None = None  # every item row's text vector, once items were placed
        self._index_tokens()

    def _index_tokens(self) -> None:
        """Per level: LLM token id of every code (-1 if the LLM has no such token) and its output row."""
        self.level_ids, self.level_rows = level_tokens(
            self.model, self.base, self.llm_tok, self.trie.sizes, self.device
        )

    @classmethod
    def from_dirs(cls, model_dir, tokenizer_dir, config: GenerateConfig = GenerateConfig()) -> Recommender:
        from sidrec.model import TrainConfig, load_model

        sid_tok = SIDTokenizer.load(tokenizer_dir)
        model, llm_tok, manifest = load_model(model_dir, sid_tok.fingerprint())
        mode = TrainConfig.from_dict(manifest["config"]).tasks.sequential_mode
        return cls(model.merge_and_unload(), llm_tok, sid_tok, config, mode)

    @property
    def history_rule(self) -> str:
        return search_rules.history_rule(self.config.exclude_history)

    def warm(self) -> float:
        """One search of the configured size on a full-length history, so that the first user's latency is not
        the model's first run (lazy allocations, kernels, buffers sized by the longest prompt); returns its
        milliseconds."""
        t0 = time.perf_counter()
        history = self.sid_tok.item_ids[: self.config.max_history]
        self.recommend([history], k=min(self.config.top_k, len(self.sid_tok.item_ids) - len(history)) or 1)
        return (time.perf_counter() - t0) * 1000

    def model_text(self, history: list[str]) -> str:
        """The exact text the model reads for a history (the format it was trained with)."""
        return model_input(*recommendation_input(history, self.sid_tok, self.config.max_history, self.sequential_mode))

    def add_items(
        self, item_ids: list[str], texts: list[str], placement: PlacementConfig = PlacementConfig()
    ) -> list[str]:
        """Cold start: new items get SIDs from their text and become recommendable at once."""
        sids = self.sid_tok.add_items(item_ids, texts, placement)
        self.trie.add(self.sid_tok.codes[-len(item_ids) :])
        self._index_tokens()
        self._share_cells()
        self._text = self.sid_tok.text_embeddings()
        return sids

    def _share_cells(self) -> None:
        placed, log_share = search_rules.placed_shares(
            self.trie, self.n_trained, self.config.placed_score, self.config.placed_weight
        )
        self._placed = (torch.from_numpy(placed).to(self.device), torch.from_numpy(log_share).to(self.device))

    def placed_items(self) -> list[str]:
        """The items given a SID after training (`add_items`)."""
        return self.sid_tok.item_ids[self.n_trained :]

    def missing_tokens(self, item_id: str) -> list[str]:
        """The item's SID tokens the model has none for among those the search asks it to score (a placed
        item's separating code is not asked: module docstring); any at all and the search can never return it."""
        codes = self.sid_tok.codes_of(item_id)
        scored = len(codes) - 1 if self.sid_tok.rows_of([item_id])[0] >= self.n_trained else len(codes)
        return [token(lv, c) for lv, c in enumerate(codes[:scored]) if int(self.level_ids[lv][c]) < 0]

    def lacks_tokens(self, item_id: str) -> bool:
        """Whether the search can never return the item (`missing_tokens`)."""
        return bool(self.missing_tokens(item_id))

    def cell_mates(self, item_id: str) -> list[str]:
        """The other items whose SID differs from this one's in the separating code only (its cell)."""
        return search_rules.cell_mates(self.sid_tok, item_id)

    # ------------------------------------------------------------ scoring
    def _logp(self, hidden: torch.Tensor, level: int) -> torch.Tensor:
        """(N, K_l) log-probabilities of level-l codes; -inf for codes without an LLM token."""
        missing = self.level_ids[level] < 0
        if self.config.score == "vocab":
            logits = self.base.get_output_embeddings()(hidden).float()  # (N, V)
            logp = torch.log_softmax(logits, -1)[:, self.level_ids[level].clamp_min(0)]
        else:
            logits = hidden.float() @ self.level_rows[level].T  # (N, K_l)
            logits = logits.masked_fill(missing, float("-inf"))
            logp = torch.log_softmax(logits, -1)
        return logp.masked_fill(missing, float("-inf"))

    # ------------------------------------------------------------ search
    def excluded(self, histories: list[list[str]], exclude: list | None = None) -> list[set[str]] | None:
        """Per user, the items the search must not return (None when repeats are allowed)."""
        return search_rules.excluded(histories, exclude, self.config.exclude_history)

    @torch.inference_mode()
    def recommend(
        self,
        histories: list[list[str]],
        k: int | None = None,
        num_beams: int | None = None,
        constrained: bool = True,
        exclude: list | None = None,
    ) -> list[Recommendation]:
        """Top-k items for each history (lists of item ids, oldest first).

        Unless the config allows repeats, no history item is returned; `exclude` (one collection of
        item ids per history) names more items the user already has.
        """
        k = k or self.config.top_k
        beams = num_beams or self.config.num_beams
        if k > beams:
            raise SidrecError(f"top-k ({k}) cannot exceed the number of beams ({beams})")
        for h in histories:
            for iid in h:
                if iid not in self.sid_tok:
                    raise SidrecError(f"unknown item {iid!r} in the history")
        excluded = self.excluded(histories, exclude) if constrained else None
        out = []
        for start in range(0, len(histories), self.batch_size):
            end = start + self.batch_size
            out += self._search(histories[start:end], k, beams, constrained, excluded and excluded[start:end])
        if constrained and self.config.new_item_place == "gated" and self._text is not None:
            self._give_new_items_a_place(histories, out, excluded, k)
        return out

    def _give_new_items_a_place(self, histories, recs: list[Recommendation], excluded, k: int) -> None:
        """A placed item nearer the history by text than the k-th item takes the last place, keeping its score."""
        rows, n = self.sid_tok.rows_of, len(recs)
        blocked = [set(rows(x)) for x in excluded] if excluded is not None else [set()] * n
        placed = np.arange(self.n_trained, len(self.sid_tok))
        lists = [rows(r.items) for r in recs]
        for rec, row in zip(
            recs,
            search_rules.new_item_place(
                list(map(rows, histories)), lists, blocked, self._text, placed, k, self.config.new_item_top
            ),
            strict=True,
        ):
            if row is not None:
                rec.by_text = self.sid_tok.item_ids[row]
                rec.items[k - 1], rec.sids[k - 1] = rec.by_text, self.sid_tok.encode(rec.by_text)

    def _search(self, histories, k: int, num_beams: int, constrained: bool, excluded=None) -> list[Recommendation]:
        t0 = time.perf_counter()
        prompts = [self.model_text(h) for h in histories]
        enc = self.llm_tok(prompts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        mask = enc["attention_mask"]  # (U, T)
        pos = (mask.cumsum(1) - 1).clamp_min(0)
        out = self.decoder(input_ids=enc["input_ids"], attention_mask=mask, position_ids=pos, use_cache=True)
        cache, hidden = out.past_key_values, out.last_hidden_state[:, -1]  # (U, d)
        shared = SharedPrefixCache(cache, mask) if self.shared_prefix else None
        n_users = len(histories)
        blocked = search_rules.blocked_states(self.trie, self.sid_tok, excluded, self.device)
        encode_ms = (time.perf_counter() - t0) * 1000

        step_ms, kept = [], []
        dev = self.device
        states = torch.zeros(n_users, dtype=torch.long, device=dev)
        scores = torch.zeros(n_users, device=dev)
        prefix = torch.zeros((n_users, 0), dtype=torch.long, device=dev)
        width = 1  # beams per user so far
        last_pos = pos[:, -1]
        for level in range(self.trie.n_levels):
            ts = time.perf_counter()
            if level > 0 and shared is not None:
                last_pos = last_pos + 1
                hidden = shared_prefix.step(self.decoder, shared, self.level_ids[level - 1][prefix[:, -1]], last_pos)
            elif level > 0:
                mask = torch.cat([mask, torch.ones((len(mask), 1), dtype=mask.dtype, device=dev)], 1)
                last_pos = last_pos + 1
                tokens = self.level_ids[level - 1][prefix[:, -1]]
                out = self.decoder(
                    input_ids=tokens[:, None], attention_mask=mask, position_ids=last_pos[:, None],
                    past_key_values=cache, use_cache=True,
                )  # fmt: skip
                cache, hidden = out.past_key_values, out.last_hidden_state[:, -1]  # (U*W, d)
            logp = self._logp(hidden, level)  # (U*W, K)
            if constrained:
                nxt_cpu = self.trie.step(level, states.cpu())  # (U*W, K); the trie's tables stay on the CPU
                nxt = nxt_cpu.to(dev)
                allowed = nxt >= 0
                if self.config.score == "allowed":  # renormalise over the real continuations (dead rows stay -inf)
                    logp = logp.masked_fill(~allowed, float("-inf"))
                    norm = torch.logsumexp(logp, -1, keepdim=True)
                    logp = logp - norm.masked_fill(~torch.isfinite(norm), 0.0)
                if self._placed is not None and level == self.trie.n_levels - 1:
                    row = self.trie.items_of(nxt_cpu.clamp_min(0)).to(dev)  # item rows (garbage where not allowed)
                    placed, share = self._placed[0][row], self._placed[1][row]
                    logp = search_rules.placed_logp(logp, allowed, placed, share, self.config.placed_score)
                live = torch.isfinite(scores)
                if (live & ~allowed.any(1)).any():
                    raise SidrecError(f"trie state without children at level {level}: the SID index is inconsistent")
                if blocked is not None:  # states whose every item is in the user's history
                    user_blocked = blocked[level].repeat_interleave(width, 0)  # (U*W, m)
                    allowed &= ~(nxt[:, :, None] == user_blocked[:, None, :]).any(-1)
                logp = logp.masked_fill(~allowed, float("-inf"))
            size = logp.shape[1]
            cand = (scores[:, None] + logp).view(n_users, width * size)  # (U, W*K)
            new_width = min(num_beams, width * size)
            top_scores, flat = cand.topk(new_width, dim=1)  # (U, W'), sorted
            origin = (torch.arange(n_users, device=dev)[:, None] * width + flat // size).flatten()
            code = (flat % size).flatten()
            if constrained:
                states = nxt[origin, code].clamp_min(0)
            scores = top_scores.flatten()
            prefix = torch.cat([prefix[origin], code[:, None]], 1)
            if shared is not None:
                shared.reorder(origin)
                last_pos = last_pos[origin]
            elif level == 0:
                cache.batch_repeat_interleave(new_width)
                mask = mask.repeat_interleave(new_width, 0)
                last_pos = last_pos.repeat_interleave(new_width, 0)
            else:
                cache.reorder_cache(origin)
                mask, last_pos = mask[origin], last_pos[origin]
            width = new_width
            kept.append((prefix.clone(), scores.clone()))
            step_ms.append((time.perf_counter() - ts) * 1000)

        total_ms = (time.perf_counter() - t0) * 1000
        timings = {
            "encode_ms": round(encode_ms, 2),
            "step_ms": [round(s, 2) for s in step_ms],
            "total_ms": round(total_ms, 2),
        }
        results = []
        for u in range(n_users):
            rows = slice(u * width, (u + 1) * width)
            items, sids, sc, invalid = [], [], [], 0
            for codes, s in zip(prefix[rows].tolist(), scores[rows].tolist(), strict=True):
                if not np.isfinite(s):
                    continue
                try:
                    iid = self.sid_tok.decode(codes)
                except SidrecError:
                    invalid += 1
                    continue
                if iid in items:
                    continue
                items.append(iid)
                sids.append(self.sid_tok.sid_of_codes(codes))
                sc.append(float(s))
            beam_tree = []
            for lv_prefix, lv_scores in kept:
                w = len(lv_scores) // n_users
                pairs = zip(
                    lv_prefix[u * w : (u + 1) * w].tolist(), lv_scores[u * w : (u + 1) * w].tolist(), strict=True
                )
                beam_tree.append([(self.sid_tok.sid_of_codes(p), float(s)) for p, s in pairs if np.isfinite(s)])
            results.append(Recommendation(items[:k], sids[:k], sc[:k], beam_tree, timings, invalid))
        return results
