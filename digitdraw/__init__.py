"""digitdraw: recognise one handwritten digit in a drawing or a photo.

    import digitdraw
    digitdraw.predict(image)          # {"0": p0, ..., "9": p9}, calibrated, summing to 1
    digitdraw.preprocess(image)       # (28, 28) float32 in [0, 1], white digit on black
    digitdraw.load_classifier(path)   # (N, 28, 28) -> (N, 10) probabilities; None: shipped weights
    digitdraw.NoDigitError            # ValueError: the image holds no digit
    digitdraw.InvalidImageError       # ValueError: the input is not a readable image
"""

from .inference import classify, load_classifier, predict
from .preprocessing import InvalidImageError, NoDigitError, preprocess

__all__ = ["predict", "preprocess", "classify", "load_classifier", "NoDigitError", "InvalidImageError"]
