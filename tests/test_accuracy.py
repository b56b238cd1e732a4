"""The shipped weights: size, metadata, and accuracy on real data."""

from __future__ import annotations

import numpy as np

from conftest import canvas_of
from digitdraw import load_classifier, predict
from digitdraw.inference import WEIGHTS_PATH
from digitdraw.preprocessing import PREPROCESSING_VERSION
from training import data


def test_weights_are_small_safetensors_with_their_provenance():
    assert WEIGHTS_PATH.stat().st_size <= 2 * 1024 * 1024
    metadata = load_classifier().metadata
    for key in ("architecture", "command", "seed", "date", "mnist_test_accuracy", "temperature"):
        assert metadata.get(key), key
    assert metadata["command"].startswith("python -m training.train")
    assert metadata["preprocessing_version"] == PREPROCESSING_VERSION  # trained on what the app runs


def test_shipped_weights_reach_99_5_percent_on_the_mnist_test_set():
    images, labels = data.load_mnist("t10k")
    probabilities = load_classifier()(images.astype(np.float32) / 255)
    assert probabilities.shape == (10000, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    accuracy = (probabilities.argmax(axis=1) == labels).mean()
    assert accuracy >= 0.995, accuracy


def test_drawings_by_held_out_writers(held_out_digits):
    correct = [max((p := predict(canvas_of(d, brush=6 + i % 4 * 8))), key=p.get) == str(d.label)
               for i, d in enumerate(held_out_digits)]
    assert np.mean(correct) >= 0.95, np.mean(correct)


def test_classifier_is_loaded_once():
    assert load_classifier() is load_classifier()
