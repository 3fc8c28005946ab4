"""Cache vs Live: build the pre-computed top-K cache, then put cached lists next to live beam search: overlap@K,
rank agreement, latencies, and what a new interaction does to a cached list (it goes stale).

The cache file is written to the workspace's own folder only (never to the demo artifacts of the sample).
"""

import pandas as pd
import plotly.express as px
import streamlit as st

from sidrec.cache import TopKCache, build_cache, compare
from sidrec.errors import SidrecError
from sidrec.explore import overlap_counts, side_by_side
from sidrec.generate import Recommender
from sidrec.model import model_fingerprint
from webapp.ui import (
    current_workspace,
    dataset,
    flash,
    lasting_choice,
    missing,
    model_key,
    need_recommender,
    one_search_at_a_time,
    progress_bar,
    session_memo,
    writable,
)

QUICK_USERS = 200

st.title("⚡ Cache vs Live")
ws = current_workspace()
ds = dataset(ws)
if not ds.sequences:
    st.info("This catalogue has no users (no interactions), so there is nothing to cache.")
    st.stop()
rec = need_recommender(ws)
rec_key = model_key(ws)


@st.cache_data(show_spinner=False, max_entries=4)
def fingerprint(model_dir: str, rec_key: str) -> str:
    return model_fingerprint(model_dir)


def compare_users(
    rec: Recommender, rec_key: str, cache_path: str, cache_stamp: float, histories: tuple[tuple[str, tuple], ...]
) -> list[dict]:
    """`compare` for each (user, history, everything the user has), run by this session (so every latency shown is
    its own) and kept until the model, the cache file or a history changes."""

    def run() -> list[dict]:
        cache = TopKCache(cache_path)
        try:
            out = []
            for user, history, seen in histories:
                with one_search_at_a_time():
                    out.append(compare(cache, rec, user, list(history), seen))
            return out
        finally:
            cache.close()

    return session_memo("cache_vs_live", (rec_key, cache_path, cache_stamp, histories), run, max_entries=64)


def titled(items: list[str]) -> list[str]:
    return [f"{titles.get(i, '')} [{i}]" for i in items]


def show_comparison(c: dict) -> None:
    st.markdown(f"**User {c['user_id']}**")
    if c["stale"]:
        st.warning("stale: history changed since the cache was built")
    if not c["in_cache"]:
        st.caption("Not in the cache: only the live list.")
    m = st.columns(4)
    m[0].metric(f"Overlap@{k}", f"{c['overlap']:.0%}")
    m[1].metric("Rank agreement", f"{c['rank_agreement']:.0%}")
    m[2].metric("Cached lookup", f"{c['cached_ms']:.3f} ms")
    m[3].metric("Live search", f"{c['live_ms']:,.0f} ms", help="run by this session, alone on the machine")
    st.dataframe(
        side_by_side(c["cached"], c["live"], titles), hide_index=True, width="stretch",
        column_config={"rank": st.column_config.NumberColumn(width="small"),
                       "cached": st.column_config.TextColumn(width="large"),
                       "live": st.column_config.TextColumn(width="large")},
    )  # fmt: skip


def comparisons(users: list[str]) -> list[dict]:
    """Cached and live for each user, or an error box and a stop (a history the model's tokenizer cannot read)."""
    try:
        return compare_users(rec, rec_key, *cache_key, tuple((u, history(u), seen(u)) for u in users))
    except SidrecError as e:
        st.error(f"No comparison: {e}")
        st.stop()


# ---------------------------------------------------------------- model and histories
model_dir = ws.artifact("llm")
try:
    model_fp = fingerprint(str(model_dir), rec_key)
except SidrecError as e:
    st.error(f"The workspace's model cannot be read: {e}")
    st.stop()
titles = ds.items["title"].to_dict()
users = sorted(ds.sequences)
added = st.session_state.setdefault(f"clv_added_{ws.name}", {})  # user -> items added on this page (UI state)


def history(user: str, with_added: bool = True) -> tuple[str, ...]:
    """The user's last items (what the cache is built from), with the items added on this page unless told not."""
    return tuple([*ds.sequences[user], *(added.get(user, []) if with_added else [])][-rec.config.max_history :])


def seen(user: str) -> tuple[str, ...]:
    """Every item the user has (the model reads only the last ones; none of them is recommended again)."""
    return tuple(dict.fromkeys([*ds.sequences[user], *added.get(user, [])]))


# ---------------------------------------------------------------- the cache file
path = ws.artifact("cache.sqlite")
target = None if ws.read_only else ws.artifact_path_for_writing("cache.sqlite")
k, cache_users, cache_beams, problem = rec.config.top_k, [], None, None
if path is not None:
    try:
        cache = TopKCache(path)
        try:
            if cache.model_fingerprint != model_fp:
                problem = f"{path.name} was built by another model ({cache.model_fingerprint}, not {model_fp})"
            else:
                k, cache_users, cache_beams = cache.k, sorted(cache.users()), cache.num_beams
        finally:
            cache.close()
    except SidrecError as e:
        problem = str(e)
if problem and path == target:
    st.error(f"The cache cannot be used: {problem}. Delete it to build a new one.")
    if st.button("Delete the workspace's cache file"):
        target.unlink()
        st.rerun()
elif problem:
    st.error(f"The demo cache cannot be used: {problem}. Build the workspace's own below.")

with st.expander(
    f"Build the cache ({len(cache_users):,} of {len(users):,} users cached)" if cache_users else "Build the cache",
    expanded=len(cache_users) < len(users),
):
    st.caption(
        f"Top-{rec.config.top_k} lists for each user's last {rec.config.max_history} items, computed in batches "
        f"and saved to {f'`{target}`' if target else 'a copy of the read-only demo'}. Users already cached are "
        "skipped, so building again continues where it stopped."
    )
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    n_build = c1.number_input("Users to build (the first N, by id)", 1, len(users), len(users))
    full = c2.button("Build the cache", type="primary")
    quick = c3.button(f"Quick: first {min(QUICK_USERS, len(users))} users")
    if full or quick:
        chosen = users[: min(QUICK_USERS, len(users))] if quick else users[: int(n_build)]
        try:
            target_ws = writable(ws)  # the demo is read-only: the build goes to a copy of it
            target = target_ws.artifact_path_for_writing("cache.sqlite")
            stats = build_cache(
                rec, {u: list(history(u, with_added=False)) for u in chosen}, target, model_fp, k=rec.config.top_k,
                progress=progress_bar("Building the cache…"), exclude={u: set(ds.sequences[u]) for u in chosen},
            )  # fmt: skip
        except SidrecError as e:
            st.error(f"Not built: {e}")
        else:
            flash(
                f"Built {stats['users_built']:,} users in {stats['seconds']:.1f} s "
                f"({stats['users_per_second'] or 0:.1f} users/s); {stats['users_in_cache']:,} in the cache."
            )
            st.rerun()

if not cache_users:
    missing(
        ws,
        "cache.sqlite",
        "No cache yet: build one above (a quick build of a few users is enough) to compare cached and live "
        "recommendations. Every user's list takes a while on a CPU; the command resumes where it stopped.",
    )
    st.stop()

cache_key = (str(path), path.stat().st_mtime)

# ---------------------------------------------------------------- side by side
st.subheader("Cached and live, side by side")
st.caption(
    f"The live search runs with the {cache_beams} beams the cache was built with." if cache_beams else
    f"The cache does not record the beams it was built with; the live search runs with {rec.config.num_beams}."
)  # fmt: skip
chosen = st.multiselect("Users", cache_users, default=cache_users[:3], max_selections=10)
for c in comparisons(chosen):
    show_comparison(c)

# ---------------------------------------------------------------- over a sample of users
st.subheader("Over a sample of users")
c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
n_sample = c1.number_input("Users in the sample", 1, min(500, len(cache_users)), min(30, len(cache_users)))
sample_key = f"clv_sample_{ws.name}"
if c2.button("Compare the sample", help="One live search per user, each as slow as the live searches above."):
    st.session_state[sample_key] = int(n_sample)
if sample_key in st.session_state:
    n = min(st.session_state[sample_key], len(cache_users))
    sample = cache_users[:: max(len(cache_users) // n, 1)][:n]
    with st.spinner(f"Live searches for {len(sample)} users…"):
        spread = pd.DataFrame(comparisons(sample))
    c1, c2 = st.columns(2)
    c1.plotly_chart(
        px.bar(
            overlap_counts(spread.overlap.tolist(), k), x="overlap", y="users",
            title=f"Overlap@{k} of cached and live lists ({len(spread)} users)",
        ).update_xaxes(tickformat=".0%")
    )  # fmt: skip
    ms = spread.melt(value_vars=["cached_ms", "live_ms"], var_name="source", value_name="ms")
    ms["source"] = ms["source"].map({"cached_ms": "cache lookup", "live_ms": "live beam search"})
    box = px.box(ms, x="source", y="ms", log_y=True, points="all", title="Latency per user (log scale)")
    c2.plotly_chart(box.update_yaxes(dtick=1))  # one tick per power of ten
    st.caption(
        f"Median: lookup {spread.cached_ms.median():.3f} ms, live {spread.live_ms.median():.0f} ms "
        f"({spread.live_ms.median() / max(spread.cached_ms.median(), 1e-6):,.0f}× slower); "
        f"mean overlap {spread.overlap.mean():.0%}, mean rank agreement {spread.rank_agreement.mean():.0%}."
    )

# ---------------------------------------------------------------- a new interaction
st.subheader("Add an interaction")
st.caption("The cache holds what was computed from the old history; the live search sees the new item at once.")
c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
user = lasting_choice(c1.selectbox, "User", cache_users, key="clv_user")
item = c2.selectbox("Item bought next", ds.item_ids, format_func=lambda i: f"{titles.get(i, '')} [{i}]")
if c3.button("Add to history", disabled=item not in rec.sid_tok):
    added.setdefault(user, []).append(item)
    st.rerun()  # the sections above show this user too
if added.get(user):
    st.caption(f"Added on this page: {', '.join(titled(added[user]))}")
    if st.button("Forget the added items"):
        added.pop(user)
        st.rerun()
show_comparison(comparisons([user])[0])
