"""digitdraw: recognise handwritten digits and numbers in a drawing or a photo.

    import digitdraw
    digitdraw.predict(image)          # {"0": p0, ..., "9": p9}, calibrated, summing to 1
    digitdraw.read_number(image)      # one such dict per digit of a written number, left to right
    digitdraw.preprocess(image)       # (28, 28) float32 in [0, 1], white digit on black
    digitdraw.load_classifier(path)   # (N, 28, 28) -> (N, 10) probabilities; None: shipped weights
    digitdraw.NoDigitError            # ValueError: the image holds no digit
    digitdraw.InvalidImageError       # ValueError: the input is not a readable image

`import digitdraw` and `import digitdraw.preprocessing` do not load torch; the first call that
needs the model does.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import InvalidImageError, NoDigitError
from .preprocessing import preprocess

_LAZY = {"predict": ".reading", "read_number": ".reading", "load_classifier": ".inference"}
__all__ = ["predict", "read_number", "preprocess", "load_classifier", "NoDigitError", "InvalidImageError"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'digitdraw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
