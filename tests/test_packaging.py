"""The project's conventions that a clean clone relies on: declared dependencies, and CI running the README's command."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import ROOT

# The packages, and the scripts one another imports from their own folder (benchmark_live.py uses loadtest.py's students).
FIRST_PARTY = {"cnn_core", "ui", "tests"} | {path.stem for folder in ("scripts", "deploy") for path in (ROOT / folder).glob("*.py")}


def _imported(paths: list) -> set[str]:
    """Top-level names of every absolute import in these files, in functions too."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY - {"__future__"}


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in extras for r in project["optional-dependencies"][extra]]
    return {_normal(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _missing(imports: set[str], declared: set[str]) -> dict[str, list[str]]:
    distributions = packages_distributions()
    return {name: distributions.get(name, [name]) for name in sorted(imports)
            if not {_normal(d) for d in distributions.get(name, [name])} & declared}


def test_the_app_declares_every_package_it_imports() -> None:
    app = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), *(ROOT / "cnn_core").glob("*.py"),
           *(ROOT / "scripts").glob("*.py"), *(ROOT / "deploy").glob("*.py")]
    imports = _imported(app)
    assert {"torch", "streamlit", "pandas", "websockets"} <= imports  # the scan sees the imports at all
    assert not _missing(imports, _declared()), "import not in pyproject.toml's [project] dependencies"


def test_the_tests_declare_every_package_they_import() -> None:
    imports = _imported(list((ROOT / "tests").glob("*.py")))
    assert {"pytest", "hypothesis", "playwright"} <= imports
    assert not _missing(imports, _declared("dev")), "import not in pyproject.toml (dependencies or the dev extra)"


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    test_command = blocks[1]  # the README's second command: install the test tools, lint, run every test
    assert "ruff check ." in test_command and test_command.endswith("python -m pytest")
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [test_command]
