"""Property: any array or image either gives a finite (28, 28) array in [0, 1] or raises NoDigitError."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from digitdraw import NoDigitError, preprocess

DTYPES = st.sampled_from([np.uint8, np.uint16, np.int8, np.int16, np.int32, np.int64, np.float16,
                          np.float32, np.float64, np.bool_])
SHAPES = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=300),
    st.tuples(st.integers(1, 200), st.integers(1, 200), st.sampled_from([1, 2, 3, 4])),
    st.tuples(st.integers(1, 3), st.integers(1, 5000)),  # slivers
)


def assert_mnist_or_no_digit(image) -> None:
    try:
        x = preprocess(image)
    except NoDigitError:
        return
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(DTYPES, SHAPES, elements=None))
def test_any_numeric_array(array):
    assert_mnist_or_no_digit(array)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_blocky_images_of_any_size(data):
    # Random rectangles: structures a sampled array rarely has (solid shapes, edges, lines).
    h, w = data.draw(st.integers(1, 600)), data.draw(st.integers(1, 600))
    array = np.full((h, w), data.draw(st.integers(0, 255)), np.uint8)
    for _ in range(data.draw(st.integers(0, 6))):
        y0, x0 = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
        y1, x1 = data.draw(st.integers(y0, h)), data.draw(st.integers(x0, w))
        array[y0:y1, x0:x1] = data.draw(st.integers(0, 255))
    mode = data.draw(st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "I", "F", "1", "CMYK", "I;16"]))
    image = Image.fromarray(array, "L")
    image = image.convert("I").convert("I;16") if mode == "I;16" else image.convert(mode)
    assert_mnist_or_no_digit(image)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 80), st.integers(1, 80)),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_floats_with_nan_and_inf(array):
    assert_mnist_or_no_digit(array)
