"""Beam steps that share one copy of each user's prompt cache.

A SID is a handful of tokens, the prompt is a hundred: with 20 beams, the
generic path copies the prompt's keys and values 20 times, then copies them
again at every step when the beams are reordered and the new token appended.
Here every layer keeps the prompt cache once per user, (U, KVH, T, hd), and a
small cache of the SID tokens generated so far per beam, (U*W, KVH, l, hd);
attention is computed over both and softmax-normalised jointly, so the result
is the same attention, only the copies are gone. Reordering beams touches the
small cache alone.

Llama-family decoders only (pre-norm, rotary, grouped-query attention, no
sliding window): `supports` says whether a model qualifies; others take the
generic path.
"""

from __future__ import annotations

import torch

SUPPORTED = ("LlamaModel",)


def supports(decoder) -> bool:
    config = getattr(decoder, "config", None)
    return (
        type(decoder).__name__ in SUPPORTED
        and getattr(config, "sliding_window", None) is None
        and all(hasattr(layer, "self_attn") and hasattr(layer, "mlp") for layer in decoder.layers)
    )


class SharedPrefixCache:
    """The prompt's keys and values per user, and the beams' generated ones, for every layer."""

    def __init__(self, prompt_cache, prompt_mask: torch.Tensor):
        layers = prompt_cache.layers
        self.prompt = [(layer.keys, layer.values) for layer in layers]  # (U, KVH, T, hd) each
        self.pad = ~prompt_mask.bool()[:, None, None, None, :]  # (U, 1, 1, 1, T): left padding
        self.generated: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(layers)

    @property
    def n_users(self) -> int:
        return self.prompt[0][0].shape[0]

    def reorder(self, origin: torch.Tensor) -> None:
        """Keep the generated tokens of the beams named by `origin` (rows of the previous step)."""
        self.generated = [None if g is None else (g[0][origin], g[1][origin]) for g in self.generated]


def step(decoder, cache: SharedPrefixCache, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """One token per beam row (N = U*W rows, user-major) -> the final hidden states (N, d)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    n, users = len(tokens), cache.n_users
    width = n // users
    x = decoder.embed_tokens(tokens)[:, None, :]  # (N, 1, d)
    cos, sin = decoder.rotary_emb(x, positions[:, None])
    for i, layer in enumerate(decoder.layers):
        attn = layer.self_attn
        hd = attn.head_dim
        h = layer.input_layernorm(x)
        q = attn.q_proj(h).view(n, 1, -1, hd).transpose(1, 2)  # (N, H, 1, hd)
        k = attn.k_proj(h).view(n, 1, -1, hd).transpose(1, 2)  # (N, KVH, 1, hd)
        v = attn.v_proj(h).view(n, 1, -1, hd).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        prev = cache.generated[i]
        if prev is not None:
            k, v = torch.cat([prev[0], k], 2), torch.cat([prev[1], v], 2)
        cache.generated[i] = (k, v)
        kp, vp = cache.prompt[i]
        n_heads, n_kv = q.shape[1], k.shape[1]
        group = n_heads // n_kv
        # query head j*group + g reads key/value head j (grouped-query attention)
        qg = q.reshape(users, width, n_kv, group, hd)
        kg = k.view(users, width, n_kv, -1, hd)
        vg = v.view(users, width, n_kv, -1, hd)
        s_prompt = torch.einsum("uwkgd,uktd->uwkgt", qg, kp).masked_fill(cache.pad, float("-inf"))
        s_beam = torch.einsum("uwkgd,uwkld->uwkgl", qg, kg)
        p = torch.softmax(torch.cat([s_prompt, s_beam], -1) * attn.scaling, -1)
        t = kp.shape[2]
        o = torch.einsum("uwkgt,uktd->uwkgd", p[..., :t], vp) + torch.einsum("uwkgl,uwkld->uwkgd", p[..., t:], vg)
        x = x + attn.o_proj(o.reshape(n, 1, n_heads * hd))
        x = x + layer.mlp(layer.post_attention_layernorm(x))
    return decoder.norm(x)[:, 0]
