"""scripts/benchmark.py's rerun ratio (issue 11): it runs, alternates the two scripts and prints both clocks."""

from __future__ import annotations

import importlib.util
import re

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import app_test, local_script_runner

from tests.conftest import ROOT


def test_the_rerun_ratio_compares_the_playground_with_a_bare_script(capsys, monkeypatch) -> None:
    # like_a_server() patches AppTest for the rest of the process: undone after this test.
    for owner, name in ((app_test, "PagesManager"), (app_test, "ScriptCache"), (local_script_runner, "ScriptCache"),
                        (PagesManager, "uses_pages_directory")):
        monkeypatch.setattr(owner, name, getattr(owner, name))
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "scripts" / "benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    benchmark.rerun_ratio(rounds=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["wall-clock", "CPU"]
    for line in lines:
        bare, app, ratio = (float(median or times) for median, times in re.findall(r"median ([\d.]+) ms|ratio ([\d.]+)×", line))
        assert 0 < bare < app and abs(app / bare - ratio) < 0.06 * ratio, line  # the app does more than one widget's work
