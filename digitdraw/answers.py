"""What the page shows for an image, as plain data (no Gradio): the answer (status line, number,
each digit's probabilities and the 28x28 it read) and "How it was read" (steps and saliency).

    answers = recognize_batch(classifier, images, prompt, blank_is_empty)
    how = explanation(classifier, image)
"""

from __future__ import annotations

import base64
import io
from typing import Any, Callable

import numpy as np
from PIL import Image

from . import explain
from .errors import InvalidImageError, NoDigitError, NotADigitError
from .inference import Classifier
from .model import DIGITS
from .reading import NOT_A_NUMBER, probabilities_dict, read_digit_steps, read_number_steps, retraced_digits

# A top probability under this is shown as a guess, with its runner-up: the probabilities are
# calibrated, so such an answer is wrong about as often as 1 - its probability (over 40%).
UNSURE_BELOW = 0.6
# A digit is shown as unsure, too, when the model gives "not a digit" more than this, though under
# the threshold that refuses it: a scribble shaped like an 8 can read as an 8 at 97% given that it is
# a digit, and 26% "not a digit". Of 500 held-out writers' drawn digits, 0.8% are over 10%.
MAYBE_NOT_A_DIGIT = 0.1
# An image sent as a data URL (an upload, or one sent back for its explanation) is at most this
# large: as base64 (4/3 of it) it fits the 4 MB cap on a request's body (limits.MAX_BODY). The page
# shrinks photos to well under it (static/upload.js, MAX_SEND).
MAX_IMAGE_BYTES = 2 * 1024 * 1024

Answer = dict[str, Any]


def png_data_url(picture: np.ndarray) -> str:
    """A picture as a PNG data URL: floats in [0, 1] (gray) or uint8 RGB (the browser scales it)."""
    if picture.dtype != np.uint8:
        picture = (np.clip(picture, 0, 1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def is_unsure(probabilities: np.ndarray, not_a_digit: float) -> bool:
    """Whether a digit is shown as a guess: its ten probabilities (given that it is a digit) and the
    model's probability that it is none."""
    return bool(probabilities.max() < UNSURE_BELOW or not_a_digit > MAYBE_NOT_A_DIGIT)


def digit_answer(digit: np.ndarray, probabilities: np.ndarray, preview: bool = True, not_a_digit: float = 0.0,
                 scribbled: bool = False) -> Answer:
    """One digit: the top class, how sure, whether unsure, all ten probabilities (given that it is a
    digit) and (optionally) its 28x28. `not_a_digit` is the model's probability that it is none;
    `scribbled`: drawn over itself (reading.retraced), so shown as unsure whatever the model says."""
    best = int(np.argmax(probabilities))
    unsure = scribbled or is_unsure(probabilities, not_a_digit)
    answer = {"digit": DIGITS[best], "confidence": float(probabilities[best]), "unsure": unsure,
              "probabilities": probabilities_dict(probabilities)}
    return {**answer, "preview": png_data_url(digit)} if preview else answer


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def runner_up(answer: Answer) -> tuple[tuple[str, float], tuple[str, float]]:
    ranked = sorted(answer["probabilities"].items(), key=lambda kv: kv[1], reverse=True)
    return ranked[0], ranked[1]


def a_or_an(digit: str) -> str:
    """The article of a digit's name: an 8, a 7."""
    return "an" if digit == "8" else "a"


def status_line(digits: list[Answer]) -> str:
    """One short sentence on what was read: a digit and how sure, or a number and its unsure digits."""
    if len(digits) == 1:
        (best, p_best), (second, p_second) = runner_up(digits[0])
        if digits[0]["unsure"] and p_best >= UNSURE_BELOW:  # unsure only that it is a digit at all
            return f"Maybe not a digit; if it is, {a_or_an(best)} {best} ({p_best:.0%})."
        if digits[0]["unsure"]:
            return f"Not sure: maybe {a_or_an(best)} {best} ({p_best:.0%}), or {a_or_an(second)} {second} ({p_second:.0%})."
        return f"It's {a_or_an(best)} {best} ({p_best:.0%} sure)."
    number = "".join(d["digit"] for d in digits)
    unsure = [i for i, d in enumerate(digits) if d["unsure"]]
    if not unsure:
        return f"Reads {number}."
    if len(unsure) == 1:
        i = unsure[0]
        return f"Reads {number}, not sure of the {ordinal(i + 1)} digit ({' or '.join(d for d, _ in runner_up(digits[i]))})."
    return f"Reads {number}, not sure of {len(unsure)} of its {len(digits)} digits."


def message(status: str, drawing: int | None = None) -> Answer:
    """An answer without digits: a prompt, or why nothing was read."""
    return {"drawing": drawing, "status": status, "number": "", "digits": []}


def drawing_id(value: Any) -> int | None:
    """The pad's id for this drawing (None for an uploaded file): the browser drops older answers."""
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def recognize_batch(classifier: Classifier, images: list[Any], prompt: str, blank_is_empty: bool,
                    previews: bool = True, one_digit: bool = False,
                    on_digits: Callable[[np.ndarray], None] | None = None) -> list[Answer]:
    """Read the number in each image (its digits found and classified together), explain the rest.

    With `blank_is_empty` an image without any mark (a cleared pad) gets the prompt; without
    `previews` the digits come without their 28x28 PNGs (the read_number API leaves them out);
    with `one_digit` each image is read as one digit (its main one), as `predict` reads it;
    `on_digits` gets the 28x28s (N, 28, 28) of each image that has digits (for the Learn tab's model).
    A drawing marked "live" (sent while a stroke is drawn) is read without cutting digits that touch:
    the answer to the finished stroke comes a moment later, and cuts it.
    """
    answers = [message(prompt, drawing_id(image)) for image in images]
    for i, image in enumerate(images):
        if image is None:
            continue
        try:
            live = isinstance(image, dict) and image.get("live") is True
            reading = read_digit_steps(image, classifier) if one_digit else read_number_steps(image, classifier, not live)
        except NotADigitError:
            answers[i]["status"] = NOT_A_NUMBER
            continue
        except NoDigitError as e:
            answers[i]["status"] = prompt if e.blank and blank_is_empty else str(e)
            continue
        except InvalidImageError as e:
            answers[i]["status"] = f"Can't read that file — {e}"
            continue
        read = [digit_answer(d.steps.result, d.digit_probabilities, previews, d.not_a_digit, scribbled)
                for d, scribbled in zip(reading.digits, retraced_digits(image, reading))]
        answers[i].update(number="".join(d["digit"] for d in read), digits=read, status=status_line(read))
        if on_digits:
            on_digits(np.stack([d.steps.result for d in reading.digits]))
    return answers


def explanation(classifier: Classifier, image: Any) -> Answer:
    """How `image` was read: the steps as captioned pictures, and each digit's saliency maps."""
    try:
        reading = read_number_steps(image, classifier)
    except NotADigitError:
        return {"status": NOT_A_NUMBER, "steps": [], "saliency": []}
    except NoDigitError as e:
        return {"status": str(e), "steps": [], "saliency": []}
    except InvalidImageError as e:
        return {"status": f"Can't read that file — {e}", "steps": [], "saliency": []}
    many = len(reading.digits) > 1
    pictures = explain.page_steps(reading.page, reading.marks, [d.mask for d in reading.digits],
                                  [d.mask for d in reading.dropped])
    order = np.argsort(reading.probabilities, axis=1)[:, ::-1]
    tops, runner_ups = order[:, 0], order[:, 1]
    maps = classifier.attributions(np.stack([d.steps.result for d in reading.digits]), tops, runner_ups)
    saliency = []
    for i, digit in enumerate(reading.digits):
        pictures += explain.digit_pictures(digit.steps, i + 1 if many else None)
        saliency.append({"digit": DIGITS[tops[i]], "runner_up": DIGITS[runner_ups[i]],
                         "article": a_or_an(DIGITS[tops[i]]), "runner_up_article": a_or_an(DIGITS[runner_ups[i]]),
                         "top": png_data_url(explain.heatmap(digit.steps.result, maps[i, 0])),
                         "versus": png_data_url(explain.heatmap(digit.steps.result, maps[i, 1]))})
    steps = [{"name": p.name, "caption": p.caption, "image": png_data_url(p.image)} for p in pictures]
    return {"status": f"Read as {reading.number}.", "steps": steps, "saliency": saliency}


def image_of_data_url(url: Any) -> bytes:
    """The bytes of a base64 image data URL; InvalidImageError for anything else or too large."""
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
        raise InvalidImageError("not an image")
    if len(url) > MAX_IMAGE_BYTES * 4 // 3 + 100:  # base64 is 4/3 the size, plus the header
        raise InvalidImageError(f"the image is over {MAX_IMAGE_BYTES // 2**20} MB")
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=True)
    except ValueError:
        raise InvalidImageError("not an image") from None
