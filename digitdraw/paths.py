"""Where the files shipped with the code are.

In a checkout, `weights/`, `examples/` and `learn/` sit at the repository's top level, beside the package.
A wheel maps them into the package (pyproject.toml, `force-include`), so an installed digitdraw
finds them there.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The folder `name` (weights, examples, learn): inside the installed package, else beside it."""
    inside = PACKAGE_DIR / name
    return inside if inside.exists() else PACKAGE_DIR.parent / name
