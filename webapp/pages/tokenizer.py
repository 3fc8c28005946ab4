"""Tokenizer: fit codebooks with progress, read the dashboard, inspect item <-> SID, try a new item."""

import math
from dataclasses import replace

import pandas as pd
import plotly.express as px
import streamlit as st

from sidrec.embed import EmbedConfig, encode_texts
from sidrec.errors import SidrecError
from sidrec.layouts import choose_index
from sidrec.pipeline import fit_catalogue, import_published, tokenizer_keyword_quality
from sidrec.placement import PlacementConfig, placement_agreement
from sidrec.quantize import QuantizerConfig
from sidrec.tokenizer import TokenizerConfig
from webapp.ui import (
    current_workspace,
    dataset,
    flash,
    new_item_form,
    progress_bar,
    refuse_while_training,
    tokenizer,
    writable,
)

st.title("🧩 Tokenizer")
ws = current_workspace()
ds = dataset(ws)

METHODS = {
    "Residual k-means, balanced": ("rq-kmeans", True),
    "Residual k-means": ("rq-kmeans", False),
    "RQ-VAE": ("rq-vae", False),
}
INDEXES = {  # the SID indexes the data folder ships (sidrec.layouts.choose_index)
    f"Published index: {name} (import)": "published" if name == "published" else f"published:{name}"
    for name in ds.index_files
}


def fit_form_ui() -> tuple[str, TokenizerConfig | None] | None:
    """The fit form; returns (method label, config) when submitted (config None: import a shipped index)."""
    with st.form("fit"):
        c1, c2, c3, c4 = st.columns(4)
        label = c1.selectbox(
            "Method",
            [*METHODS, *INDEXES],
            help="Balanced: each code takes an equal share of the items, so fewest items share codes (the default). "
            "Unbalanced: each item goes to its nearest code; the sample demo's setting, where it recommended better "
            "over three seeds, with more items told apart only by the separating code (BENCHMARKS.md).",
        )
        levels = c2.number_input("Levels (before the separating level)", 1, 6, 3)
        size = c3.select_slider("Codebook size", [16, 32, 64, 128, 256, 512], value=256)
        usable = {"fused": bool(ds.sequences) and ds.has_text, "text": ds.has_text, "behavior": bool(ds.sequences)}
        embeddings = [e for e, ok in usable.items() if ok] or ["text"]  # behaviour needs interactions, text text
        embedding = c4.selectbox("Embedding", embeddings)
        c5, c6, c7 = st.columns([1, 1, 2])
        weight = c5.slider(
            "Behaviour weight (fused)",
            0.0,
            1.0,
            EmbedConfig().behavior_weight,
            0.05,
            help="The purchases' share of the fused embedding. Higher: codes follow what people buy together. "
            "Lower: a new item is placed from its text closer to where its known look-alikes sit (check it with "
            "'Measure placement agreement' below).",
        )
        seed = c6.number_input("Seed", 0, 10_000, 0)
        by_text = c7.checkbox(
            "First code from the text alone (fused, residual k-means)",
            help="The first level is clustered on the text part of the fused embedding, so a new item's first code "
            "follows from its text the way a known item's did; the deeper levels still use both parts.",
        )
        if not st.form_submit_button("Fit tokenizer", type="primary"):
            return None
    if label in INDEXES:
        if by_text:
            st.error("Not imported: a published index keeps its own codes; the first code from the text is for a fit.")
            return None
        return label, None
    method, balanced = METHODS[label]
    q = replace(
        QuantizerConfig(), method=method, balanced=balanced, levels=int(levels), codebook_size=int(size), seed=int(seed)
    )
    embed = EmbedConfig(embedding=embedding, behavior_weight=float(weight))
    try:
        return label, TokenizerConfig(q, embed, first_level="text" if by_text else "embedding")
    except SidrecError as e:
        st.error(f"Not fitted: {e}")
        return None


with st.expander("Fit a new tokenizer", expanded=ws.artifact("tokenizer") is None):
    st.caption(
        "Items are embedded (text, behaviour or both), quantized by residual codebooks, and a last level separates "
        "items whose codes collide, so every item gets a unique semantic ID."
    )
    submitted = fit_form_ui()
    if submitted:
        label, config = submitted
        progress = progress_bar("Starting…")
        try:
            refuse_while_training(ws.name, "fit another tokenizer (its model would name codes that are gone)")
            if config is None:
                result = import_published(ds, choose_index(ds, INDEXES[label]), progress)
            else:
                result = fit_catalogue(ds, config, progress=progress)
            target = writable(ws)
            refuse_while_training(target.name, "fit another tokenizer (its model would name codes that are gone)")
            result.save(target.artifact_path_for_writing("tokenizer"))
        except SidrecError as e:
            st.error(f"Not fitted: {e}")
        else:
            flash(
                f"Fitted {label} and saved it to the workspace {target.name!r} "
                f"({result.tokenizer.stats.get('total_seconds', 0):.1f} s)."
            )
            st.rerun()

loaded = tokenizer(ws)
if loaded is None:
    st.info("This workspace has no tokenizer yet: fit one above.")
    st.stop()
tok, keywords, _ = loaded
s = tok.stats
st.subheader("Dashboard")
first = " · first code from the text alone" if tok.config.first_level == "text" else ""
st.caption(
    f"Method `{s.get('method')}`{first} · {len(tok):,} items · {len(tok.tokens()):,} tokens · "
    f"{tok.n_levels} tokens per SID"
)
m = st.columns(5)
m[0].metric("Collisions before the last level", f"{s['collision_rate_before_dedup']:.2%}")
m[1].metric("Collisions after", f"{s['collision_rate']:.2%}")
m[2].metric("Largest collision bucket", s.get("largest_bucket", 0))
m[3].metric("Separating codes used", tok.level_sizes[-1])
m[4].metric("Fit time", f"{s.get('total_seconds', s.get('fit_seconds', 0)):.1f} s")

levels = pd.DataFrame(
    {
        "level": [f"{chr(97 + i)} (level {i + 1})" for i in range(tok.n_levels)],
        "utilisation": s["utilization"],
        "entropy (bits)": s["entropy_bits"],
        "max entropy (bits)": [round(math.log2(max(k, 1)), 3) for k in tok.level_sizes],
    }
)
c1, c2 = st.columns(2)
c1.plotly_chart(px.bar(levels, x="level", y="utilisation", title="Share of codes used per level", range_y=[0, 1]))
c2.plotly_chart(
    px.bar(
        levels, x="level", y=["entropy (bits)", "max entropy (bits)"], barmode="group", title="Code entropy per level"
    )
)


@st.cache_data(show_spinner=False, max_entries=8)
def quality(key: str, data_key: str, _ds, _tok, _keywords) -> dict:
    return tokenizer_keyword_quality(_ds, _tok, _keywords)


q = quality(tok.fingerprint() + str(ws.artifact("tokenizer")), str(ws.data_dir), ds, tok, keywords)
if q["levels"]:
    st.markdown("**Keyword quality**")
    rows = [
        {"level": lv, "keywords of": who, "share of items": v[col]}
        for lv, v in q["levels"].items()
        for who, col in (("its own token", "own"), ("a random other token", "random_token"))
    ]
    c1, c2 = st.columns([2, 3])
    c1.plotly_chart(
        px.bar(pd.DataFrame(rows), x="level", y="share of items", color="keywords of", barmode="group",
               range_y=[0, 1], title=f"Items whose text names one of the top-{q['top']} keywords", height=320)
    )  # fmt: skip
    c2.markdown(
        f"{q['own']:.0%} of the items mention one of their own token's top-{q['top']} keywords, against "
        f"{q['random_token']:.0%} with another token's keywords drawn at random: the keywords say what a token's "
        "items are, not what every item says. The separating level has no keywords (it carries no meaning)."
    )

titles = ds.items["title"]
prefix_len = tok.n_levels - 1
buckets = pd.Series([tuple(r) for r in tok.codes[:, :prefix_len].tolist()]).value_counts()
if len(buckets) and buckets.iloc[0] > 1:
    with st.expander(f"Largest collision bucket: {buckets.iloc[0]} items share their first {prefix_len} codes"):
        members = [
            tok.item_ids[i] for i, r in enumerate(tok.codes[:, :prefix_len].tolist()) if tuple(r) == buckets.index[0]
        ]
        st.dataframe(
            pd.DataFrame(
                {
                    "item_id": members,
                    "sid": [tok.encode(i) for i in members],
                    "title": [titles.get(i, "") for i in members],
                }
            ),
            hide_index=True,
        )

st.subheader("Item ↔ SID inspector")
c1, c2 = st.columns(2)
with c1:
    options = [i for i in ds.item_ids if i in tok]
    item = st.selectbox("Item", options, format_func=lambda i: f"{titles.get(i, '')} [{i}]")
    if item:
        st.code(tok.encode(item), language=None)
        for t in tok.encode(item).replace("><", ">\n<").splitlines():
            info = keywords.get(t, {})
            st.markdown(f"`{t}` {', '.join(info.get('keywords', [])[:5])}")
with c2:
    sid = st.text_input("SID", value=tok.encode(options[0]) if options else "")
    if sid:
        try:
            found = tok.decode(sid.strip())
        except SidrecError as e:
            st.warning(str(e))
        else:
            st.success(f"{titles.get(found, '')} [{found}]")

st.subheader("A new item (cold start)")
if tok.books is None:
    st.info("An imported index has no codebooks, so it cannot place new items. Fit a tokenizer to try this.")
elif tok.config.embed.embedding == "behavior":
    st.info("A behaviour-only tokenizer cannot place an item from its text alone; fit on text or fused embeddings.")
else:
    submitted = new_item_form("cold", "Encode", tok.config.embed.max_description_chars)
    if submitted:
        if not submitted[0]:
            st.error("A title is needed.")
        else:
            text = submitted[1]
            codes = tok.place([text])[0]
            prefix = tuple(codes[:-1].tolist())
            st.code(tok.sid_of_codes(codes), language=None)
            st.caption(
                "Without refitting: the codebooks place the text"
                + (", with a behaviour part imputed from the known items whose text is nearest"
                   if tok.config.embed.embedding == "fused" and tok.item_embeddings is not None else "")
                + "; the last code separates it from the items already sharing its prefix."
            )  # fmt: skip
            same_first = [i for i in tok.item_ids if tok.codes_of(i)[0] == prefix[0]][:10]
            st.markdown(
                f"**Items sharing `<a_{prefix[0]}>`** ({keywords.get(f'<a_{prefix[0]}>', {}).get('description', '')})"
            )
            st.dataframe(
                pd.DataFrame(
                    {"sid": [tok.encode(i) for i in same_first], "title": [titles.get(i, "") for i in same_first]}
                ),
                hide_index=True,
            )

    if tok.item_embeddings is not None and st.button(
        "Measure placement agreement", help="Re-places every known item from its text alone (encodes every item's "
        "text once; cached afterwards) and counts how often it gets its own codes back.",
    ):  # fmt: skip
        with st.spinner("Encoding every item's text and re-placing it…"):
            texts = dict(zip(ds.item_ids, ds.item_text(tok.config.embed.max_description_chars), strict=True))
            text_emb = encode_texts([texts[i] for i in tok.item_ids], tok.config.embed.text_model)
            rows = []
            for config in (PlacementConfig("text"), PlacementConfig()):
                a = placement_agreement(tok, tok.item_embeddings, text_emb, config)
                label = "text alone" if config.method == "text" else f"text + {config.k} neighbours' behaviour"
                rows += [{"level": chr(97 + lv), "placed from": label, "share": v}
                         for lv, v in enumerate(a["agreement"])]  # fmt: skip
            rows += [{"level": chr(97 + lv), "placed from": "exact embedding (ceiling)", "share": v}
                     for lv, v in enumerate(a["ceiling"])]  # fmt: skip
        st.plotly_chart(
            px.bar(pd.DataFrame(rows), x="level", y="share", color="placed from", barmode="group", range_y=[0, 1],
                   title="Known items re-placed from their text: share that get their own codes back")
        )  # fmt: skip
