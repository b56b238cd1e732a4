"""The package as users get it: a light import, the command line, a wheel that carries its weights."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib
from PIL import Image

from tests.harness import ROOT

MNIST_EXAMPLES = sorted((ROOT / "examples").glob("mnist-*.png"))


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_importing_preprocessing_loads_neither_torch_nor_gradio():
    code = "import digitdraw.preprocessing, sys; print(sorted({'torch', 'gradio'} & set(sys.modules)))"
    assert run("-c", code).stdout.strip() == "[]"


def test_the_top_level_gives_the_engine():
    code = ("import digitdraw, sys; names = ['predict', 'read_number', 'preprocess', 'load_classifier', 'NoDigitError', "
            "'InvalidImageError']; print('torch' in sys.modules, all(hasattr(digitdraw, n) for n in names), "
            "'torch' in sys.modules)")
    assert run("-c", code).stdout.split() == ["False", "True", "True"]  # torch loads on first use


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    return names


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "digitdraw").glob("*.py"))], ids=lambda p: p.name)
def test_the_app_never_imports_the_training_package(path):
    assert not {name for name in imported_modules(path) if name.split(".")[0] in ("training", "benchmarks")}


def local_imports(path: Path, package: str) -> set[str]:
    """The modules of `package` that a module of it imports (relative or absolute)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package + "."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            names |= {alias.name for alias in node.names}
    folder = path.parent
    return {name for name in names if (folder / f"{name}.py").exists()}


@pytest.mark.parametrize("package", ["digitdraw", "training"])
def test_no_import_cycles(package):
    graph = {p.stem: local_imports(p, package) for p in (ROOT / package).glob("*.py")}
    done, path = set(), []

    def visit(module: str) -> None:
        assert module not in path, " -> ".join(path[path.index(module):] + [module])
        if module in done:
            return
        path.append(module)
        for imported in graph.get(module, ()):
            visit(imported)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


@pytest.mark.parametrize("path", sorted((ROOT / "digitdraw").glob("*.py")), ids=lambda p: p.name)
def test_each_module_of_the_app_is_short(path):
    assert len(path.read_text().splitlines()) <= 350


def test_no_code_edits_sys_path():
    sources = [p for folder in ("digitdraw", "training", "benchmarks", "tests") for p in (ROOT / folder).glob("*.py")]
    assert not [p.name for p in sources + [ROOT / "app.py"] if re.search(r"sys\.path\.(insert|append)", p.read_text())
                and p.name != "test_package.py"]


def test_requirements_txt_pins_what_pyproject_pins():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]

    def normal(spec: str) -> str:
        return spec.replace(" ", "").replace("'", '"')

    assert sorted(map(normal, pyproject)) == sorted(normal(r) for r in requirements if r)


def test_predict_prints_name_digit_and_confidence():
    result = run("-m", "digitdraw", "predict", *map(str, MNIST_EXAMPLES))
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [Path(name) for name, _, _ in lines] == MNIST_EXAMPLES
    assert [digit for _, digit, _ in lines] == [p.stem[-1] for p in MNIST_EXAMPLES]  # "...-digit-7.png"
    assert all(re.fullmatch(r"\d+\.\d%", confidence) for _, _, confidence in lines)


def test_predict_json_gives_all_ten_probabilities():
    result = run("-m", "digitdraw", "predict", "--json", str(MNIST_EXAMPLES[0]))
    answer = json.loads(result.stdout)
    assert answer["file"] == str(MNIST_EXAMPLES[0]) and answer["digit"] == "7"
    assert sorted(answer["probabilities"]) == [str(d) for d in range(10)]
    assert sum(answer["probabilities"].values()) == pytest.approx(1, abs=1e-4)


def test_predict_number_reads_each_digit(tmp_path):
    pair = Image.new("L", (560, 280), 0)  # two MNIST examples side by side: "7" then "2"
    for i, path in enumerate(MNIST_EXAMPLES[:2]):
        pair.paste(Image.open(path).convert("L").resize((280, 280)), (280 * i, 0))
    path = tmp_path / "pair.png"
    pair.save(path)
    expected = "".join(p.stem[-1] for p in MNIST_EXAMPLES[:2])
    name, number, confidences = run("-m", "digitdraw", "predict", "--number", str(path)).stdout.strip().split("\t")
    assert (name, number) == (str(path), expected) and len(confidences.split()) == 2
    answer = json.loads(run("-m", "digitdraw", "predict", "--number", "--json", str(path)).stdout)
    assert answer["number"] == expected and [d["digit"] for d in answer["digits"]] == list(expected)
    assert all(sum(d["probabilities"].values()) == pytest.approx(1, abs=1e-4) for d in answer["digits"])


def test_an_unreadable_file_is_reported_and_the_others_are_still_read(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = run("-m", "digitdraw", "predict", str(bad), str(MNIST_EXAMPLES[0]), str(tmp_path / "missing.png"))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split("\t")[:2] == [str(MNIST_EXAMPLES[0]), "7"]
    assert "notes.png: The file is not a readable image" in result.stderr
    assert "missing.png: No such file" in result.stderr


@pytest.mark.slow
def test_the_wheel_carries_its_weights_and_runs_outside_the_checkout(tmp_path):
    built = run("-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(ROOT))
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("digitdraw-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "digitdraw/weights/digitdraw.safetensors" in names
    assert any(n.startswith("digitdraw/examples/") for n in names)
    assert "digitdraw/learn/drawings.npz" in names  # the Learn tab's held-out drawings
    assert not any(n.startswith(("training/", "benchmarks/", "tests/")) for n in names)
    target = tmp_path / "site"
    assert run("-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)).returncode == 0
    # From a folder far from the checkout, with the installed package first on the path.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    code = ("import digitdraw, sys; from digitdraw.cli import main; from digitdraw.paths import shipped; "
            "assert (shipped('learn') / 'drawings.npz').is_file(); print(digitdraw.__file__, file=sys.stderr); "
            "sys.exit(main(['predict', *sys.argv[1:]]))")
    result = run("-c", code, *map(str, MNIST_EXAMPLES), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stderr  # the installed copy ran, not the checkout
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == [p.stem[-1] for p in MNIST_EXAMPLES]
