"""The Learn tab: train a CNN yourself, look inside the model, browse MNIST.

    learn_tab(classifier)   # inside a gr.Blocks: lays the tab out and wires its events

Its API endpoints, for teachers' notebooks: /train (streams progress; the last value has
mnist_test_accuracy, drawings_accuracy, epochs, seconds and history), /layers and /mnist.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Iterator

import gradio as gr
import numpy as np
import pandas as pd

from . import learn, mnist
from .answers import Answer, digit_answer, image_of_data_url, png_data_url
from .components import DrawingPad, InsidePanel, MnistPanel
from .errors import InvalidImageError, NoDigitError
from .gradio_compat import server_function_session
from .inference import Classifier
from .inside import Layer, look_inside
from .paths import shipped
from .preprocessing import preprocess
from .reading import probabilities_dict

ZERO_GPU_SECONDS = learn.MAX_SECONDS + 30  # a training's cap, and the evaluation after it
SESSIONS = learn.SessionModels()
# The tab's endpoints are callable but not listed: listed endpoints become MCP tools, and an
# assistant should not hold the one training slot or page through MNIST.
TEACHING = "undocumented"
RUNNING: dict[str, learn.Training] = {}  # session -> its training under way (one at a time: the queue)
INTRO = """Train a CNN yourself on MNIST and see what it learns: then draw on the **Draw** tab, and the
bars show your model beside the shipped one. Three epochs on raw MNIST read MNIST well and real
drawings less well; augmentation (and the preprocessing every drawing goes through) close the gap.
Your model lives only in this browser session: nothing is stored."""


def held_out_drawings() -> tuple[np.ndarray, np.ndarray]:
    """The few hundred drawings shipped to measure a trained model: held-out writers' digits,
    drawn on a canvas and preprocessed (python -m training.make_learn_set)."""
    stored = np.load(shipped("learn") / "drawings.npz")
    return stored["x"].astype(np.float32) / 255, stored["y"]


def _record(training: learn.Training, status: str, **final: Any) -> dict[str, Any]:
    history = [{"step": u.step, "loss": u.loss, "accuracy": u.accuracy} for u in training.history]
    last = training.history[-1] if training.history else None
    return {"status": status, "epochs": training.options.epochs, "architecture": training.options.architecture,
            "augmentation": training.options.augmentation, "images": training.options.images,
            "step": last.step if last else 0, "seconds": last.seconds if last else 0.0, "history": history, **final}


def train(epochs: int, architecture: str = "small", augmentation: bool = False, images: int = learn.MNIST_TRAIN_IMAGES,
          request: gr.Request = None, device: str = "cpu") -> Iterator[dict[str, Any]]:
    """Train a CNN on MNIST's training images; yields the training's record as it goes.

    Args:
        epochs: passes over the training images, 1 to 3.
        architecture: "small" (the original app's CNN) or "digitdraw" (digitdraw's own).
        augmentation: random turns, shears, warps and stroke widths while training.
        images: how many of MNIST's 60,000 training images to learn from (100 to 60,000).

    Returns:
        "mnist_test_accuracy" and "drawings_accuracy": of the trained model, 0 to 1, in the last record
        "epochs", "seconds", and "history": a list of {"step", "loss", "accuracy"}
    """
    options = learn.TrainingOptions(int(epochs), architecture, bool(augmentation), int(images)).checked()
    session = request.session_hash if request else ""
    yield {"status": "Getting MNIST's training images…", "history": []}
    try:
        train_images, train_labels = mnist.load("train")
        test_images, test_labels = mnist.load("t10k")
    except mnist.MnistUnavailable as e:
        yield {"status": str(e), "history": []}
        return
    training = learn.Training(options, train_images, train_labels)
    RUNNING[session] = training
    try:
        for update in training.steps(device=device):
            if not update.done:
                yield _record(training, f"Training: epoch {update.epoch:.2f} of {options.epochs}, step {update.step}, "
                                        f"loss {update.loss:.3f}, accuracy {update.accuracy:.1%} ({update.seconds:.0f} s)")
    finally:
        RUNNING.pop(session, None)
    last = training.history[-1]
    drawings, labels = held_out_drawings()
    result = {"mnist_test_accuracy": learn.accuracy(training.model, test_images.astype(np.float32) / 255, test_labels),
              "drawings_accuracy": learn.accuracy(training.model, drawings, labels)}
    SESSIONS.put(session, learn.Trained(training.model.cpu(), options, seconds=last.seconds, **result))
    ended = {"done": "Done", "stopped": "Stopped", "the time cap": f"Stopped at the {learn.MAX_SECONDS // 60}-minute cap"}
    yield _record(training, f"{ended[last.why]}: MNIST test {result['mnist_test_accuracy']:.1%}, held-out drawings "
                            f"{result['drawings_accuracy']:.1%}. Draw on the Draw tab to compare with the shipped model.",
                  **result, why=last.why)


def stop(request: gr.Request) -> None:
    """Stop this session's training, cleanly, at its next step."""
    training = RUNNING.get(request.session_hash if request else "")
    if training is not None:
        training.stop.set()


def curves(record: dict[str, Any] | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The record's loss and accuracy curves, and its status line."""
    history = pd.DataFrame((record or {}).get("history") or [], columns=["step", "loss", "accuracy"])
    return history[["step", "loss"]], history[["step", "accuracy"]], (record or {}).get("status", "")


def yours(session: str | None, digits: np.ndarray) -> list[dict[str, float]] | None:
    """This session's trained model's probabilities for the digits (N, 28, 28), if it has one."""
    trained = SESSIONS.get(session)
    if trained is None:
        return None
    return [probabilities_dict(row) for row in learn.probabilities(trained.model, digits)]


def layers(classifier: Classifier, image: Any) -> Answer:
    """Inside the shipped model for one image: each convolution's maps, the pooled features, the logits."""
    digit = preprocess(image)
    look = look_inside(classifier.model, classifier.contract.temperature, digit, classifier.contract.classes)

    def layer(shown: Layer) -> dict[str, Any]:
        return {"name": shown.name, "shape": list(shown.shape), "image": png_data_url(shown.image), "sentence": shown.sentence}

    return {"digit": png_data_url(digit), "layers": [layer(x) for x in look.layers], "pooled": layer(look.pooled),
            "temperature": classifier.contract.temperature,
            "logits": [{"class": c, "logit": float(a), "scaled": float(b), "probability": float(p)}
                       for c, a, b, p in zip(look.classes, look.logits, look.scaled, look.probabilities)]}


MISREAD: dict[str, np.ndarray] = {}  # "indices": the MNIST test digits the shipped model misreads
MISREAD_LOCK = threading.Lock()


def misread(classifier: Classifier) -> np.ndarray:
    """The indices of the MNIST test digits the shipped model gets wrong (read once, then kept)."""
    with MISREAD_LOCK:
        if "indices" not in MISREAD:
            images, labels = mnist.load("t10k")
            probabilities = classifier(images.astype(np.float32) / 255)
            MISREAD["indices"] = np.flatnonzero(probabilities.argmax(1) != labels)
        return MISREAD["indices"]


def mnist_sample(classifier: Classifier, index: int, session: str | None = None) -> Answer:
    """One MNIST test digit: its label, the shipped model's reading, and this session's model's."""
    images, labels = mnist.load("t10k")
    index = int(index) % len(labels)
    digit = images[index].astype(np.float32) / 255
    row = classifier(digit[None])[0]
    answer = digit_answer(digit, row[:10] / row[:10].sum(), preview=False)
    return {"index": index, "label": str(int(labels[index])), "image": png_data_url(digit), "number": answer["digit"],
            "probabilities": answer["probabilities"], "confidence": answer["confidence"],
            "not_a_digit": float(row[10]) if len(row) > 10 else 0.0, "yours": (yours(session, digit[None]) or [None])[0]}


def pick(classifier: Classifier, request: dict[str, Any], labels: np.ndarray) -> int:
    """Which test digit a browse request asks for: {"index": n}, {"random": true}, {"digit": d,
    "after": n} (the next of that class) or {"misread": true, "after": n} (the next the shipped
    model gets wrong)."""
    def number(key: str, default: int) -> int:
        value = request.get(key, default)
        return int(value) if isinstance(value, (int, float)) and np.isfinite(value) else default

    if request.get("random"):
        return int(np.random.default_rng().integers(len(labels)))
    if request.get("misread"):
        pool = misread(classifier)
    elif str(request.get("digit")) in tuple("0123456789"):
        pool = np.flatnonzero(labels == int(request["digit"]))
    else:
        return min(max(number("index", 0), 0), len(labels) - 1)
    later = pool[pool > number("after", -1)]
    return int((later if len(later) else pool)[0])


def learn_tab(classifier: Classifier, pad: DrawingPad) -> None:
    """The tab's layout and events (call inside gr.Blocks and gr.Tabs); `pad` gives /layers its input."""
    zero_gpu = bool(os.environ.get("SPACES_ZERO_GPU"))

    def run_training(epochs: int, architecture: str, augmentation: bool, images: int,
                     request: gr.Request) -> Iterator[dict[str, Any]]:
        yield from train(epochs, architecture, augmentation, images, request, "cuda" if zero_gpu else "cpu")

    if zero_gpu:  # on a ZeroGPU Space the loop runs on the GPU it is lent, for at most the cap
        import spaces

        run_training = spaces.GPU(duration=ZERO_GPU_SECONDS)(run_training)

    def browse_in_session(request: Any, session: str | None) -> Answer:
        try:
            _, labels = mnist.load("t10k")
        except mnist.MnistUnavailable as e:
            return {"status": str(e)}
        index = pick(classifier, request if isinstance(request, dict) else {}, labels)
        return {**mnist_sample(classifier, index, session), "status": ""}

    async def browse(request: Any, http: gr.Request) -> Answer:
        """The MNIST panel's server function (see pick) -> one test digit and its readings."""
        session = await server_function_session(http)
        return await asyncio.to_thread(browse_in_session, request, session)

    def inside(request: Any) -> Answer:
        """The inside panel's server function: {"drawing": strokes} or {"image": data URL}."""
        try:
            image = request["drawing"] if "drawing" in request else image_of_data_url(request.get("image"))
            return layers(classifier, image)
        except (NoDigitError, InvalidImageError, TypeError, KeyError, AttributeError) as e:
            return {"status": str(e) or "Nothing to look inside.", "layers": []}

    def layers_api(image: Any) -> Answer:
        """Inside the shipped model for a drawing (strokes, as the pad sends them) or an image file.

        Returns:
            "layers": one per convolution, {"name", "shape", "image": a PNG data URL of its maps, "sentence"}
            "pooled": the pooled features, alike; "logits": per class, before and after the temperature
        """
        try:
            return layers(classifier, image)
        except (NoDigitError, InvalidImageError) as e:
            return {"status": str(e), "layers": []}

    def mnist_api(index: float, request: gr.Request) -> Answer:
        """One of MNIST's 10,000 test digits, and how the shipped model reads it.

        Args:
            index: which test digit, 0 to 9,999.

        Returns:
            "index", "label", "image" (a PNG data URL), "number" (the digit the shipped model reads)
            "probabilities": of "0" to "9", as the shipped model reads it
        """
        try:
            return mnist_sample(classifier, int(index or 0), request.session_hash if request else None)
        except mnist.MnistUnavailable as e:
            return {"status": str(e)}

    gr.Markdown("## Train a model yourself\n\n" + INTRO)
    with gr.Row():
        architecture = gr.Radio([(text, name) for name, text in learn.ARCHITECTURES.items()], value="small",
                                label="Architecture")
        epochs = gr.Slider(1, learn.MAX_EPOCHS, value=1, step=1, label="Epochs")
    with gr.Row():
        augmentation = gr.Checkbox(False, label="Augmentation: random turns, shears, warps and stroke widths")
        images = gr.Slider(1000, learn.MNIST_TRAIN_IMAGES, value=learn.MNIST_TRAIN_IMAGES, step=1000,
                           label="MNIST training images to learn from", elem_id="train-images")
    with gr.Row():
        train_button = gr.Button("Train", variant="primary", elem_id="train")
        stop_button = gr.Button("Stop", elem_id="stop")
    status = gr.Markdown(elem_id="train-status")
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="loss", title="Loss", height=220, elem_id="loss-plot")
        accuracy_plot = gr.LinePlot(x="step", y="accuracy", title="Accuracy on the last steps", height=220,
                                    y_lim=[0, 1], elem_id="accuracy-plot")
    record = gr.JSON(label="The training's record (what the /train API returns)", elem_id="train-record",
                     max_height=160)
    train_button.click(run_training, [epochs, architecture, augmentation, images], record, api_name="train",
                       concurrency_limit=1, concurrency_id="train", show_progress="full", api_visibility=TEACHING)
    record.change(curves, record, [loss_plot, accuracy_plot, status], show_progress="hidden", queue=False,
                  api_visibility="private")
    stop_button.click(stop, None, None, queue=False, api_visibility="private")
    InsidePanel(inside, elem_id="inside")
    MnistPanel(browse, elem_id="mnist")
    answer, index = gr.JSON(visible=False), gr.Number(visible=False, precision=0)
    pad.change(layers_api, pad, answer, api_name="layers", show_progress="hidden", api_visibility=TEACHING)
    index.change(mnist_api, index, answer, api_name="mnist", show_progress="hidden", api_visibility=TEACHING)
