"""The Learn tab's engine: training in the app, looking inside the model, and MNIST at run time."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
import time
from functools import partial

import numpy as np
import pytest
import torch

from digitdraw import learn, mnist
from digitdraw.inference import load_classifier
from digitdraw.inside import GAP, look_inside, tile
from digitdraw.learn_tab import held_out_drawings, layers, pick
from tests.harness import drawing_of
from tests.test_data_model import bars_and_rings
from training import data


def bars_and_rings_as_mnist(count: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = bars_and_rings(count)
    return (x[:, 0].numpy() * 255).astype(np.uint8), y.numpy()


def test_the_small_cnn_is_the_original_apps():
    model = learn.SmallCNN()
    assert sum(p.numel() for p in model.parameters()) == 225_034
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 and sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 2
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_a_training_reports_its_curve_and_learns():
    images, labels = bars_and_rings_as_mnist(3200)  # 25 steps of 128 an epoch
    run = learn.Training(learn.TrainingOptions(epochs=2, images=3200), images, labels)
    updates = list(run.steps())
    assert [u.step for u in updates[:-1]] == [25, 50] and updates[-1].done and updates[-1].why == "done"
    assert updates[-1].epoch == pytest.approx(2)
    assert updates[0].loss > updates[-2].loss  # the curve goes down
    assert learn.accuracy(run.model, images.astype(np.float32) / 255, labels) > 0.95


@pytest.mark.parametrize("architecture, augmentation", [("digitdraw", True), ("small", True)])
def test_both_architectures_train_with_augmentation(architecture, augmentation):
    images, labels = bars_and_rings_as_mnist(256)
    run = learn.Training(learn.TrainingOptions(1, architecture, augmentation, images=256), images, labels)
    last = list(run.steps())[-1]
    assert last.done and np.isfinite(last.loss)
    assert learn.probabilities(run.model, images[:4].astype(np.float32) / 255).shape == (4, 10)  # digits only


def test_a_training_stops_when_asked_and_at_its_time_cap():
    images, labels = bars_and_rings_as_mnist(2560)
    run = learn.Training(learn.TrainingOptions(epochs=3, images=2560), images, labels)
    for update in run.steps():
        if update.step == 25:
            run.stop.set()
    assert update.done and update.why == "stopped" and update.step == 25
    run = learn.Training(learn.TrainingOptions(epochs=3, images=2560), images, labels)
    last = list(run.steps(max_seconds=0.0))[-1]
    assert last.why == "the time cap" and last.step == 0


@pytest.mark.parametrize("options", [learn.TrainingOptions(epochs=4), learn.TrainingOptions(epochs=0),
                                     learn.TrainingOptions(architecture="resnet"), learn.TrainingOptions(images=50)])
def test_options_out_of_range_are_refused(options):
    with pytest.raises(ValueError):
        options.checked()


def test_a_sessions_model_is_its_own_and_kept_only_a_while(monkeypatch):
    models = learn.SessionModels()
    trained = learn.Trained(learn.SmallCNN(), learn.TrainingOptions(), 0.9, 0.8, 10.0)
    models.put("a", trained)
    assert models.get("a") is trained and models.get("b") is None and models.get(None) is None
    for i in range(learn.MAX_SESSIONS):
        models.put(str(i), learn.Trained(learn.SmallCNN(), learn.TrainingOptions(), 0.9, 0.8, 10.0))
    assert models.get("a") is None  # the least recently used went first
    later = time.monotonic() + learn.SESSION_SECONDS + 1
    monkeypatch.setattr(learn.time, "monotonic", lambda: later)
    assert models.get("0") is None  # an hour on, gone


def test_tiles_keep_every_map_apart():
    maps = np.stack([np.full((4, 4), v, np.float32) for v in range(10)])
    maps[:, 0, 0] = -1  # each map scaled to [0, 1] on its own
    grid = tile(maps, columns=4)
    assert grid.shape == (3 * 5 - 1, 4 * 5 - 1)
    assert grid[0, 0] == 0 and grid[1, 1] == 1 and grid[4, 0] == GAP


def test_looking_inside_shows_every_convolution_the_pooled_features_and_the_scores():
    classifier = load_classifier()
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1
    look = look_inside(classifier.model, classifier.contract.temperature, digit, classifier.contract.classes)
    assert [layer.shape for layer in look.layers] == [(40, 28, 28), (40, 28, 28), (80, 14, 14), (80, 14, 14), (160, 7, 7)]
    assert look.pooled.shape == (160, 3, 3) and all(layer.sentence for layer in look.layers + [look.pooled])
    np.testing.assert_allclose(look.scaled, look.logits / classifier.contract.temperature, rtol=1e-5)
    np.testing.assert_allclose(look.probabilities, classifier(digit[None])[0], atol=1e-5)
    small = look_inside(learn.SmallCNN(), 1.0, digit, tuple("0123456789"))
    assert [layer.shape for layer in small.layers] == [(32, 26, 26), (64, 11, 11)] and small.pooled.shape == (64, 5, 5)


@pytest.mark.data
def test_the_layers_of_a_drawing(held_out_digits):
    answer = layers(load_classifier(), drawing_of(held_out_digits[84]))
    assert [layer["name"] for layer in answer["layers"]] == [f"convolution {i}" for i in range(1, 6)]
    assert all(layer["image"].startswith("data:image/png;base64,") for layer in answer["layers"])
    assert len(answer["logits"]) == 11 and max(answer["logits"], key=lambda row: row["probability"])["class"] == "7"


def test_the_held_out_drawings_are_a_few_hundred_of_every_digit():
    x, y = held_out_drawings()
    assert x.shape == (400, 28, 28) and x.max() <= 1 and np.bincount(y).tolist() == [40] * 10


def test_browsing_picks_the_digit_asked_for(monkeypatch):
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    monkeypatch.setattr("digitdraw.learn_tab.misread", lambda classifier: np.array([2, 6]))
    assert pick(None, {"index": 5}, labels) == 5 and pick(None, {"index": 99}, labels) == 7
    assert pick(None, {"digit": "1", "after": 1}, labels) == 3 and pick(None, {"digit": "1", "after": 3}, labels) == 1
    assert pick(None, {"misread": True, "after": 2}, labels) == 6
    assert pick(None, {"index": "x; drop"}, labels) == 0 and 0 <= pick(None, {"random": True}, labels) < 8


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mirrors(tmp_path):
    """Three local mirrors: one that nobody answers on, one that serves corrupt files, one good."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    for name in mnist.FILES:
        shutil.copy(data.DEFAULT_MNIST_DIR / name, good / name)
        (bad / name).write_bytes(b"not mnist at all")
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
               for folder in (bad, good)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    closed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    unreachable = f"http://127.0.0.1:{closed.server_address[1]}/"
    closed.server_close()  # nothing listens there
    yield [unreachable] + [f"http://127.0.0.1:{s.server_address[1]}/" for s in servers]
    for server in servers:
        server.shutdown()


@pytest.mark.data
def test_mnist_is_downloaded_once_into_the_cache_past_a_dead_and_a_corrupt_mirror(mirrors, tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITDRAW_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seen = []
    where = mnist.ensure(lambda name, done, total: seen.append((name, done, total)), mirrors=tuple(mirrors))
    assert where == tmp_path / "cache" / "digitdraw" / "mnist"
    assert all(hashlib.md5((where / n).read_bytes()).hexdigest() == md5 for n, md5 in mnist.FILES.items())
    assert {name for name, _, _ in seen} == set(mnist.FILES) and seen[-1][1] == seen[-1][2] > 0  # progress, to the end
    assert not list(where.glob("*.part"))
    seen.clear()
    mnist.ensure(lambda *args: seen.append(args), mirrors=tuple(mirrors))
    assert seen == []  # once: the next time nothing is fetched


def test_mnist_offline_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITDRAW_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(mnist.MnistUnavailable, match="could not be fetched.*put them in"):
        mnist.ensure(mirrors=("http://127.0.0.1:9/",))


def test_mnist_from_digitdraw_data_is_read_there_and_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITDRAW_DATA", str(tmp_path))
    with pytest.raises(mnist.MnistUnavailable, match="DIGITDRAW_DATA"):
        mnist.ensure(mirrors=("http://127.0.0.1:9/",))


@pytest.mark.data
def test_mnist_reads_the_shared_files(monkeypatch):
    monkeypatch.setenv("DIGITDRAW_DATA", str(data.DEFAULT_MNIST_DIR))
    mnist.load.cache_clear()
    images, labels = mnist.load("t10k")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8 and labels[:3].tolist() == [7, 2, 1]
