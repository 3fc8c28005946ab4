"""Workspaces: a bad upload changes nothing; a good one survives a reload; the commands that make its artifacts."""

import shlex

import pytest

from sidrec.cli import build_parser
from sidrec.errors import SidrecError
from webapp.workspace import (
    artifact_command,
    copy_of_sample,
    create_workspace,
    delete_workspace,
    get_workspace,
    list_workspaces,
    reset_workspace,
)

ITEMS = b"item_id,title\ni1,Tent\ni2,Stove\ni3,Lamp\n"
INTER = b"user_id,item_id\nu1,i1\nu1,i2\nu1,i3\n"


@pytest.fixture(autouse=True)
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path))
    return tmp_path


def test_good_upload_becomes_a_workspace(root):
    ws = create_workspace("shop", {"items.csv": ITEMS, "interactions.csv": INTER})
    assert "shop" in list_workspaces()
    assert get_workspace("shop").load().sequences == {"u1": ["i1", "i2", "i3"]}
    assert ws.artifact("tokenizer") is None


def test_bad_upload_leaves_everything_intact(root):
    create_workspace("shop", {"items.csv": ITEMS, "interactions.csv": INTER})
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(SidrecError, match="unknown item_id 'ghost'"):
        create_workspace(
            "shop", {"items.csv": ITEMS, "interactions.csv": b"user_id,item_id\nu1,ghost\n"}, overwrite=True
        )
    with pytest.raises(SidrecError, match="exists already"):
        create_workspace("shop", {"items.csv": ITEMS})
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert get_workspace("shop").load().item_ids == ["i1", "i2", "i3"]


def test_a_workspace_made_by_another_session_meanwhile_is_kept(root, monkeypatch):
    """Two sessions create "shop" at once: the one that finishes second is refused and removes nothing."""
    import webapp.workspace as workspace

    check = workspace.load_dataset
    landed = []

    def other_session_finishes_first(folder):
        if not landed:  # while this upload is checked, another session's "shop" lands
            landed.append(True)
            create_workspace("shop", {"items.csv": b"item_id,title\nr1,Rival\n"})
        return check(folder)

    monkeypatch.setattr(workspace, "load_dataset", other_session_finishes_first)
    with pytest.raises(workspace.WorkspaceExists, match="exists already"):
        create_workspace("shop", {"items.csv": ITEMS, "interactions.csv": INTER})
    assert get_workspace("shop").load().item_ids == ["r1"]
    assert [p.name for p in root.iterdir()] == ["shop"]  # no staging folder left behind


def test_a_copy_of_the_demo_takes_the_next_free_name_and_leaves_the_taken_one_alone(root):
    first = copy_of_sample()
    marker = first.own_dir / "mine.txt"
    marker.write_text("kept")
    assert copy_of_sample().name == "sample-copy-2"
    assert marker.read_text() == "kept"


@pytest.mark.parametrize("name", ["sample", "../up", "", "a b"])
def test_bad_names_refused(name):
    with pytest.raises(SidrecError):
        create_workspace(name, {"items.csv": ITEMS})


def test_the_demo_is_read_only_and_a_copy_carries_its_catalogue_and_artifacts(root):
    demo = get_workspace("sample")
    assert demo.read_only and demo.builtin_dir.name == "sample" and demo.builtin_dir.parent.name == "models"
    with pytest.raises(SidrecError, match="read-only"):
        demo.artifact_path_for_writing("tokenizer")
    with pytest.raises(SidrecError, match="read-only"):
        artifact_command(demo, "cache.sqlite")
    with pytest.raises(SidrecError):
        delete_workspace("sample")
    copy = copy_of_sample()
    assert (copy.name, copy_of_sample().name) == ("sample-copy", "sample-copy-2")
    assert root in copy.artifact_path_for_writing("tokenizer").parents and not copy.read_only
    assert copy.load().sequences == demo.load().sequences
    for kind in ("tokenizer", "llm", "cache.sqlite"):
        assert copy.artifact(kind) is not None and root in copy.artifact(kind).parents
        assert (copy.artifact(kind) / "manifest.json").exists() if kind != "cache.sqlite" else True
    # the copied model still finds the copied tokenizer (its manifest names it relative to the model folder)
    from sidrec.model import tokenizer_dir_for

    assert tokenizer_dir_for(copy.artifact("llm")).resolve() == copy.artifact("tokenizer").resolve()


def test_reset_keeps_the_catalogue_and_delete_removes_the_workspace(root):
    ws = create_workspace("shop", {"items.csv": ITEMS, "interactions.csv": INTER})
    (ws.own_dir / "tokenizer").mkdir()
    (ws.own_dir / "tokenizer" / "codes.npy").write_bytes(b"x")
    (ws.own_dir / "cache.sqlite").write_bytes(b"x")
    assert reset_workspace("shop") == ["cache.sqlite", "tokenizer"]
    assert sorted(p.name for p in ws.own_dir.iterdir()) == ["data"]
    assert get_workspace("shop").load().item_ids == ["i1", "i2", "i3"]
    delete_workspace("shop")
    assert "shop" not in list_workspaces() and not ws.own_dir.exists()
    with pytest.raises(SidrecError, match="no workspace named"):
        delete_workspace("shop")


@pytest.mark.parametrize("kind", ["tokenizer", "llm", "cache.sqlite", "evaluation.json", "ablation.json"])
def test_artifact_command_parses_and_writes_where_the_app_reads(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path / "my workspaces"))  # a space: the paths are quoted
    ws = create_workspace("shop", {"items.csv": ITEMS, "interactions.csv": INTER})
    argv = shlex.split(artifact_command(ws, kind))
    assert argv[:3] == ["python", "-m", "sidrec"]
    args = build_parser().parse_args(argv[3:])
    assert args.out == ws.artifact_path_for_writing(kind)
    assert getattr(args, "data", ws.data_dir) == ws.data_dir


def test_a_copy_of_the_demo_reads_its_own_models(root):
    copy = copy_of_sample()
    command = artifact_command(copy, "evaluation.json")
    ws = root / "sample-copy"
    assert f"evaluate {ws}/llm {ws}/data --out {ws}/evaluation.json" in command
    with pytest.raises(SidrecError, match="no command"):
        artifact_command(copy, "data")


@pytest.mark.parametrize("name", ["../../etc", "..", "a/b", "/tmp", "sample/../x", "", ".hidden", "x" * 80])
def test_names_that_leave_the_workspaces_folder_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path / "ws"))
    outside = tmp_path / "etc" / "data"  # a dataset folder right next to the workspaces folder
    outside.mkdir(parents=True)
    with pytest.raises(SidrecError, match="not a workspace name"):
        get_workspace(name)


def test_a_link_out_of_the_workspaces_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDREC_WORKSPACES", str(tmp_path / "ws"))
    (tmp_path / "elsewhere" / "data").mkdir(parents=True)
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "sneaky").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SidrecError, match="outside the workspaces folder"):
        get_workspace("sneaky")


def test_a_model_finds_the_tokenizer_of_its_own_codes_among_those_it_could_name(tmp_path):
    import shutil

    from sidrec.artifacts import write_manifest
    from sidrec.model import FORMAT_VERSION, KIND, tokenizer_dir_for

    for name, codes in (("recorded", "aaaa"), ("tokenizer", "bbbb")):  # the folder it recorded, and its sibling
        (tmp_path / name).mkdir()
        write_manifest(tmp_path / name, "tokenizer", 1, {}, fingerprint=codes)
    (tmp_path / "llm").mkdir()
    write_manifest(tmp_path / "llm", KIND, FORMAT_VERSION, {}, tokenizer_dir="../recorded",
                   tokenizer_fingerprint="bbbb")  # fmt: skip
    assert tokenizer_dir_for(tmp_path / "llm") == tmp_path / "tokenizer"  # the recorded one now holds other codes
    assert tokenizer_dir_for(tmp_path / "llm", tmp_path / "recorded") == tmp_path / "recorded"  # named: used as is
    shutil.rmtree(tmp_path / "tokenizer")
    assert tokenizer_dir_for(tmp_path / "llm") == tmp_path / "llm" / "../recorded"  # loading it then refuses
