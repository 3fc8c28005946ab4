"""Loaders on tiny fixtures of every layout, each malformed case, and the split."""

import json

import numpy as np
import pandas as pd
import pytest

from sidrec.cli import main
from sidrec.data import leave_one_out, load_dataset, split_dataset, summarize
from sidrec.errors import SidrecError
from sidrec.tokenizer import SIDTokenizer

ITEMS = [
    {"item_id": "i1", "title": "Red Tent", "brand": "Acme", "categories": "Outdoor > Tents", "description": "A tent."},
    {"item_id": "i2", "title": "Blue Tent", "brand": "Acme", "categories": "Outdoor > Tents", "description": ""},
    {"item_id": "i3", "title": "Camp Stove", "brand": "Zed", "categories": "Outdoor > Cooking", "description": "Hot."},
    {"item_id": "i4", "title": "Headlamp", "brand": "Zed", "categories": "Outdoor > Lights", "description": "Bright."},
]
INTER = [("u1", "i1", 3), ("u1", "i3", 1), ("u1", "i4", 2), ("u1", "i2", 4), ("u2", "i2", 1), ("u2", "i4", 2)]


def write_generic(folder, fmt="csv", items=ITEMS, inter=INTER):
    folder.mkdir(exist_ok=True)
    idf = pd.DataFrame(items)
    tdf = pd.DataFrame(inter, columns=["user_id", "item_id", "timestamp"])
    if fmt == "csv":
        idf.to_csv(folder / "items.csv", index=False)
        tdf.to_csv(folder / "interactions.csv", index=False)
    elif fmt == "jsonl":
        idf.to_json(folder / "items.jsonl", orient="records", lines=True)
        tdf.to_json(folder / "interactions.jsonl", orient="records", lines=True)
    else:
        idf.to_parquet(folder / "items.parquet")
        tdf.to_parquet(folder / "interactions.parquet")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_generic_layouts_agree(tmp_path, fmt):
    ds = load_dataset(write_generic(tmp_path / fmt, fmt))
    assert ds.layout == "generic"
    assert ds.item_ids == ["i1", "i2", "i3", "i4"]
    # timestamps order the history, not file order
    assert ds.sequences == {"u1": ["i3", "i4", "i1", "i2"], "u2": ["i2", "i4"]}
    assert ds.items.loc["i3", "brand"] == "Zed"


def test_file_order_without_timestamps(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    pd.DataFrame(ITEMS).to_csv(folder / "items.csv", index=False)
    pd.DataFrame([("u1", "i2"), ("u1", "i1")], columns=["user_id", "item_id"]).to_csv(
        folder / "interactions.csv", index=False
    )
    assert load_dataset(folder).sequences == {"u1": ["i2", "i1"]}


def test_numeric_looking_ids_stay_strings(tmp_path):
    items = [dict(it, item_id=str(n)) for n, it in zip(["007", "8", "9", "10"], ITEMS, strict=True)]
    ds = load_dataset(write_generic(tmp_path / "d", items=items, inter=[("01", "007", 1)]))
    assert ds.item_ids[0] == "007" and list(ds.sequences) == ["01"]


def test_catalogue_without_interactions_is_valid(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    pd.DataFrame(ITEMS).to_csv(folder / "items.csv", index=False)
    ds = load_dataset(folder)
    assert ds.sequences == {} and summarize(ds)["interactions"] == 0


def test_lcrec_layout(tmp_path):
    items = {
        str(i): {"title": it["title"], "description": it["description"], "brand": it["brand"], "categories": "A,B"}
        for i, it in enumerate(ITEMS)
    }
    (tmp_path / "Toy.item.json").write_text(json.dumps(items))
    (tmp_path / "Toy.inter.json").write_text(json.dumps({"0": [0, 1, 2], "1": [3, 2, 1, 0]}))
    (tmp_path / "Toy.index.json").write_text(json.dumps({str(i): [f"<a_{i % 2}>", f"<b_{i}>"] for i in range(4)}))
    ds = load_dataset(tmp_path)
    assert ds.layout == "lcrec" and ds.sequences["1"] == ["3", "2", "1", "0"]
    assert ds.published_index["3"] == ["<a_1>", "<b_3>"]


def test_minionerec_layout(tmp_path):
    items = {
        str(i): {"title": it["title"], "description": "['One.', 'Two.']", "brand": "", "categories": ""}
        for i, it in enumerate(ITEMS)
    }
    (tmp_path / "Toy.item.json").write_text(json.dumps(items))
    for split, rows in {
        "valid": [("A1", "[0]", "1"), ("A1", "[0, 1]", "2")],
        "test": [("A1", "[0, 1, 2]", "3"), ("A2", "[3]", "0")],
    }.items():
        (tmp_path / split).mkdir()
        pd.DataFrame(rows, columns=["user_id", "history_item_id", "item_id"]).to_csv(
            tmp_path / split / "x.csv", index=False
        )
    ds = load_dataset(tmp_path)
    assert ds.layout == "minionerec"
    assert ds.items.loc["0", "description"] == "One. Two."
    split = split_dataset(ds)
    assert [s.target for s in split.test] == ["3", "0"] and split.test[0].history == ("0", "1", "2")
    assert ds.sequences["A1"] == ["0", "1", "2", "3"]
    # without a train file, training sees each user's history before the first valid row: merging the second
    # row's history in would add "1", the first row's valid target
    assert split.train_sequences == {"A1": ["0"]} and split.train == []
    assert any("no train/ split" in n for n in ds.notes)


# ---------------------------------------------------------------- malformed input


def expect_error(folder, *fragments):
    with pytest.raises(SidrecError) as err:
        load_dataset(folder)
    msg = str(err.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_missing_column_is_named(tmp_path):
    folder = write_generic(tmp_path / "d", items=[{k: v for k, v in it.items() if k != "title"} for it in ITEMS])
    expect_error(folder, "items.csv", "missing required column 'title'")


@pytest.mark.parametrize(
    "file,table,column",
    [
        ("items.csv", "item_id,title,title\ni1,Red Tent,Tent\n", "title"),
        ("items.csv", "item_id,title,item_id\ni1,Red Tent,i2\n", "item_id"),
        ("interactions.csv", "user_id,item_id,timestamp,timestamp\nu1,i1,3,4\n", "timestamp"),
    ],
)
def test_a_column_named_twice_is_named(tmp_path, file, table, column):
    folder = write_generic(tmp_path / "d")
    (folder / file).write_text(table)
    expect_error(folder, file, f"the column '{column}' appears more than once")


def test_duplicated_item_ids_are_named(tmp_path):
    folder = write_generic(tmp_path / "d", items=ITEMS + [dict(ITEMS[1], title="Again")])
    expect_error(folder, "duplicated item_id 'i2'")


def test_unknown_item_names_id_and_row(tmp_path):
    folder = write_generic(tmp_path / "d", inter=INTER + [("u3", "ghost", 9)])
    expect_error(folder, "interactions.csv row 8", "'ghost'")


def test_unknown_item_in_lcrec(tmp_path):
    (tmp_path / "T.item.json").write_text(json.dumps({"0": {"title": "x"}}))
    (tmp_path / "T.inter.json").write_text(json.dumps({"u": [0, 5]}))
    expect_error(tmp_path, "T.inter.json", "position 1", "'5'")


def test_empty_file(tmp_path):
    folder = write_generic(tmp_path / "d")
    (folder / "interactions.csv").write_text("")
    expect_error(folder, "interactions.csv", "empty")


def test_binary_file(tmp_path):
    folder = write_generic(tmp_path / "d")
    (folder / "items.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0IHDR" * 20)
    expect_error(folder, "items.csv", "not a text file")


def test_unparseable_csv_row(tmp_path):
    folder = write_generic(tmp_path / "d")
    with open(folder / "items.csv", "a") as f:
        f.write('i9,"Lamp",Acme,x,y,extra\n')
    expect_error(folder, "items.csv row 6", "unparseable")


def test_unparseable_jsonl_row(tmp_path):
    folder = write_generic(tmp_path / "d", fmt="jsonl")
    with open(folder / "items.jsonl", "a") as f:
        f.write('{"item_id": "i9", "title": \n')
    expect_error(folder, "items.jsonl row 5", "not valid JSON")


def test_bad_parquet(tmp_path):
    folder = write_generic(tmp_path / "d", fmt="parquet")
    (folder / "items.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    expect_error(folder, "items.parquet", "not a readable Parquet file")


def test_no_dataset(tmp_path):
    expect_error(tmp_path, "no dataset found")


def test_an_lcrec_folder_without_item_text_loads_ids_and_says_what_it_allows(tmp_path):
    (tmp_path / "Beauty.inter.json").write_text('{"0": [0, 1, 2], "1": [10, 2]}')
    (tmp_path / "indexes" / "v1").mkdir(parents=True)
    index = {str(i): [f"<a_{i % 2}>", f"<b_{i}>"] for i in (0, 1, 2, 3, 10)}  # item 3: in the index only
    (tmp_path / "indexes" / "v1" / "Beauty.index.json").write_text(json.dumps(index))
    ds = load_dataset(tmp_path)
    assert ds.layout == "lcrec" and ds.item_ids == ["0", "1", "2", "3", "10"] and not ds.has_text
    assert ds.index_files == {"v1": tmp_path / "indexes" / "v1" / "Beauty.index.json"}
    assert any("no Beauty.item.json" in n and "--import-index" in n for n in ds.notes)
    with pytest.raises(SidrecError, match="Beauty has no item text"):
        ds.require_text("fitting on text")


def test_published_indexes_are_found_listed_and_chosen(tmp_path):
    from sidrec.layouts import choose_index

    (tmp_path / "B.inter.json").write_text('{"0": [0, 1]}')
    for variant, k in (("one", 0), ("two", 1)):
        (tmp_path / "indexes" / variant).mkdir(parents=True)
        (tmp_path / "indexes" / variant / "B.index.json").write_text(json.dumps({"0": [f"<a_{k}>"], "1": ["<a_5>"]}))
    ds = load_dataset(tmp_path)
    with pytest.raises(SidrecError, match="several SID indexes: choose one of published:one, published:two"):
        choose_index(ds)
    assert choose_index(ds, "published:two")["0"] == ["<a_1>"]
    with pytest.raises(SidrecError, match="no SID index named 'three'"):
        choose_index(ds, "published:three")
    (tmp_path / "B.index.json").write_text(json.dumps({"0": ["<a_7>"], "1": ["<a_5>"]}))
    assert choose_index(load_dataset(tmp_path))["0"] == ["<a_7>"]  # the folder's own comes first


def test_cli_reports_one_line_and_status_2(tmp_path, capsys):
    folder = write_generic(tmp_path / "d", inter=INTER + [("u3", "ghost", 9)])
    assert main(["data", "check", str(folder), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ghost" in err and "Traceback" not in err


def test_cli_summary_json(tmp_path, capsys):
    assert main(["data", "check", str(write_generic(tmp_path / "d")), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["items"], summary["users"], summary["interactions"]) == (4, 2, 6)
    assert summary["seq_len"] == {"min": 2, "mean": 3.0, "median": 3.0, "max": 4}
    assert summary["split"]["too_short_users"] == 1  # u2 has 2 interactions


# ---------------------------------------------------------------- split


def test_leave_one_out_hand_case():
    split = leave_one_out({"u": ["a", "b", "c", "d", "e"], "short": ["x", "y"]}, max_history=2)
    assert [(s.history, s.target) for s in split.test] == [(("c", "d"), "e")]
    assert [(s.history, s.target) for s in split.valid] == [(("b", "c"), "d")]
    assert [(s.history, s.target) for s in split.train if s.user_id == "u"] == [(("a",), "b"), (("a", "b"), "c")]
    assert split.too_short_users == 1
    assert split.train_sequences == {"u": ["a", "b", "c"], "short": ["x", "y"]}


def test_train_never_sees_valid_or_test_targets():
    seqs = {f"u{i}": [f"i{(i * 7 + j) % 13}" for j in range(3 + i % 5)] for i in range(40)}
    seqs = {u: list(dict.fromkeys(s)) for u, s in seqs.items()}
    split = leave_one_out(seqs)
    for s in split.valid + split.test:
        seen = split.train_sequences[s.user_id]
        assert len(seen) == len(seqs[s.user_id]) - 2
        assert s.target not in seen
    for s in split.train:
        assert s.target in split.train_sequences[s.user_id]


# ---------------------------------------------------------------- what real exports contain


def test_a_field_longer_than_the_csv_default_limit_loads(tmp_path):
    long = "x" * 200_000  # Python's csv module stops at 131,072 characters by default
    items = [dict(ITEMS[0], description=long), *ITEMS[1:]]
    ds = load_dataset(write_generic(tmp_path / "d", items=items))
    assert len(ds.items.loc["i1", "description"]) == 200_000


@pytest.mark.parametrize("sep", [";", "\t"])
def test_spreadsheet_exports_with_semicolons_or_tabs_load(tmp_path, sep):
    folder = write_generic(tmp_path / "d")
    pd.DataFrame(ITEMS).to_csv(folder / "items.csv", index=False, sep=sep)
    pd.DataFrame(INTER, columns=["user_id", "item_id", "timestamp"]).to_csv(folder / "interactions.csv", index=False,
                                                                           sep=sep)  # fmt: skip
    ds = load_dataset(folder)
    assert ds.items.loc["i3", "title"] == "Camp Stove" and ds.sequences["u1"] == ["i3", "i4", "i1", "i2"]


def test_windows_line_endings_and_a_byte_order_mark_load(tmp_path):
    folder = write_generic(tmp_path / "d")
    text = (folder / "items.csv").read_text()
    (folder / "items.csv").write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    assert load_dataset(folder).item_ids == ["i1", "i2", "i3", "i4"]


def test_blank_titles_are_named_and_nothing_loads(tmp_path):
    items = [dict(ITEMS[0], title="   "), ITEMS[1], dict(ITEMS[2], title=""), ITEMS[3]]
    expect_error(write_generic(tmp_path / "d", items=items), "blank title for item 'i1' (row 2), 'i3' (row 4)",
                 "needs a title")  # fmt: skip


def test_a_broken_quote_is_one_line(tmp_path):
    folder = write_generic(tmp_path / "d")
    (folder / "items.csv").write_text('item_id,title\ni1,"Tent\0\n')
    with pytest.raises(SidrecError):
        load_dataset(folder)


@pytest.mark.parametrize("target", ["missing.index.json", "a-folder"])
def test_import_index_that_is_missing_or_a_folder_is_one_line_and_writes_nothing(tmp_path, capsys, target):
    folder = write_generic(tmp_path / "d")
    (tmp_path / "a-folder").mkdir()
    out = tmp_path / "tok"
    code = main(["tokenizer", "fit", str(folder), "--out", str(out), "--import-index", str(tmp_path / target)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and ("no such file" in err[0] or "a folder, not a file" in err[0]), err


def test_a_text_less_lcrec_folder_imports_trains_on_sids_and_evaluates(tmp_path, capsys):
    from tests.tiny import tiny_base

    rng = np.random.default_rng(0)
    folder = tmp_path / "Beauty"
    (folder / "indexes" / "letter").mkdir(parents=True)
    sequences = {str(u): [str(i) for i in rng.choice(24, size=6, replace=False)] for u in range(30)}
    (folder / "Beauty.inter.json").write_text(json.dumps(sequences))
    index = {str(i): [f"<a_{i % 4}>", f"<b_{i // 4}>"] for i in range(24)}
    index["23"] = index["0"]  # one collision, resolved inside the last level
    (folder / "indexes" / "letter" / "Beauty.index.json").write_text(json.dumps(index))

    assert main(["data", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "SID indexes shipped (tokenizer fit --import-index ...): published:letter" in out and "no item text" in out

    tok = tmp_path / "tok"
    assert main(["tokenizer", "fit", str(folder), "--out", str(tok), "--quiet"]) == 2
    assert "Beauty has no item text" in capsys.readouterr().err and not tok.exists()
    assert main(["tokenizer", "fit", str(folder), "--out", str(tok), "--import-index", "published", "--quiet"]) == 0
    sid_tok = SIDTokenizer.load(tok)
    assert sid_tok.encode("5") == "<a_1><b_1>" and sid_tok.n_levels == 2  # as given: no level appended
    capsys.readouterr()

    llm = tmp_path / "llm"
    base = tiny_base(tmp_path / "b")
    train = ["llm", "train", str(folder), "--tokenizer", str(tok), "--out", str(llm), "--base", base,
             "--batch-size", "4", "--max-steps", "2"]  # fmt: skip
    assert main(train) == 2  # the default recipe needs text
    assert "textual, query, ts_align, SA-Init" in capsys.readouterr().err and not llm.exists()
    assert main([*train, "--tasks", "sequential,negative", "--init", "mean"]) == 0
    capsys.readouterr()

    result = tmp_path / "eval.json"
    assert main(["evaluate", str(llm), str(folder), "--beams", "10", "--out", str(result), "--quiet"]) == 0
    assert set(json.loads(result.read_text())["models"]) == {"sid-llm", "popularity", "sasrec"}
    assert main(["evaluate", str(llm), str(folder), "--baselines", "text", "--quiet"]) == 2
    assert "the text-similarity baseline needs it" in capsys.readouterr().err
