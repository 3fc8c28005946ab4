"""The package: `pip wheel .` holds the library alone with its console command; the README's Python example runs;
the public API resolves."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_holds_the_library_alone_with_its_command(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("sidrec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"sidrec", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    assert "sidrec/cli.py" in names and "sidrec/sample_taxonomy.json" in names, "the library and its data file"
    assert not any(n.startswith(("webapp/", "tests/", "benchmarks/")) for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "sidrec = sidrec.cli:main" in entry_points


def test_the_public_api_resolves_lazily():
    code = (
        "import sys, sidrec; assert 'torch' not in sys.modules; "
        "assert all(getattr(sidrec, n) is not None for n in sidrec.__all__); print(len(sidrec.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    assert int(out.stdout) > 10
    import sidrec

    with pytest.raises(AttributeError):
        sidrec.no_such_thing  # noqa: B018


def test_the_readme_python_example_runs(capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    (example,) = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    monkeypatch.chdir(ROOT)
    exec(compile(example, "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all(re.match(r"I\d+ <a_\d+>", line) for line in lines), lines


def test_search_and_evaluation_do_not_import_training():
    """The model artifact lives apart from training: recommending, caching and evaluating never load the trainer."""
    import subprocess
    import sys

    code = (
        "import sys, sidrec.generate, sidrec.cache, sidrec.evaluate, sidrec.model, sidrec.lineage; "
        "print(sorted(m for m in sys.modules if m in ('sidrec.train', 'sidrec.loss')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_peak_memory_rises_with_what_the_process_holds():
    """The peak every benchmark states: in a fresh process, holding 300 MB more raises it by at least that much."""
    import subprocess
    import sys

    code = (
        "import numpy as np; from sidrec.device import peak_memory; a = peak_memory()['peak_rss_gb']; "
        "block = np.ones(300_000_000 // 8); b = peak_memory()['peak_rss_gb']; print(a, b, block.sum() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    before, after, touched = out.stdout.split()
    assert touched == "True" and float(after) >= float(before) + 0.29
