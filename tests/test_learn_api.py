"""The Learn tab's API (/train, /layers, /mnist) on the real app, as a teacher's notebook calls it."""

from __future__ import annotations

import threading
import time

import pytest

from tests.harness import drawing_of, local_client

pytestmark = pytest.mark.slow
# A subset of MNIST's training images, for speed: enough for a few curve points (one every
# learn.UPDATE_EVERY steps of 128 images) and a model far better than chance.
IMAGES = 6000


def outputs_with_times(client, *args, **kwargs) -> list[tuple[float, dict]]:
    """Every value a streaming endpoint sends, with the time it came."""
    job = client.submit(*args, **kwargs)
    seen = []
    for output in job:
        seen.append((time.monotonic(), output))
    return seen


def test_train_streams_its_progress_and_ends_with_the_record(app_url):
    client = local_client(app_url)
    outputs = [output for _, output in outputs_with_times(client, 1, "small", False, IMAGES, api_name="/train")]
    assert any(output["status"].startswith("Training: epoch") for output in outputs[:-1])  # progress, streamed
    last = outputs[-1]
    assert 0.8 < last["mnist_test_accuracy"] <= 1 and 0 < last["drawings_accuracy"] <= 1
    assert last["epochs"] == 1 and last["seconds"] > 0 and last["why"] == "done"
    steps = [point["step"] for point in last["history"]]
    assert steps == sorted(steps) and steps[-1] == -(-IMAGES // 128)  # every step of the epoch, ending at the last
    assert all(set(point) == {"step", "loss", "accuracy"} for point in last["history"])


def test_only_one_training_runs_at_a_time_in_a_process(app_url):
    runs: dict[str, list[tuple[float, dict]]] = {}

    def train(name: str) -> None:
        runs[name] = outputs_with_times(local_client(app_url), 1, "small", False, 3000, api_name="/train")

    threads = [threading.Thread(target=train, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(300)
    (start_a, end_a), (start_b, end_b) = sorted((seen[0][0], seen[-1][0]) for seen in runs.values())
    # The second began only when the first had ended: it waited in the queue. (Its first record and
    # the first's last come on two connections, which can arrive a few ms out of order; run side by
    # side, the two would overlap by seconds.)
    assert start_b >= end_a - 0.5
    assert all(seen[-1][1]["why"] == "done" for seen in runs.values())


def test_layers_shows_each_convolution_of_a_drawing(app_url, held_out_digits):
    answer = local_client(app_url).predict(drawing_of(held_out_digits[7]), api_name="/layers")
    assert [layer["name"] for layer in answer["layers"]] == [f"convolution {i}" for i in range(1, 6)]
    assert all(layer["image"].startswith("data:image/png;base64,") and len(layer["shape"]) == 3
               for layer in answer["layers"])


def test_mnist_gives_a_test_digit_its_label_and_the_shipped_models_reading(app_url):
    answer = local_client(app_url).predict(0, api_name="/mnist")
    assert answer["index"] == 0 and answer["label"] == "7" and answer["number"] == "7"
    assert answer["image"].startswith("data:image/png;base64,")
    assert sorted(answer["probabilities"]) == [str(d) for d in range(10)]
