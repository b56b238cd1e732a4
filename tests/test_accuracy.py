"""The shipped weights: size, metadata, and accuracy on real data."""

from __future__ import annotations

import numpy as np
import pytest

from digitdraw import load_classifier, predict
from digitdraw.inference import WEIGHTS_PATH
from digitdraw.model import read_contract
from digitdraw.preprocessing import PREPROCESSING_VERSION
from tests.images import canvas_of
from training import data


def test_weights_are_small_safetensors_with_their_provenance():
    assert WEIGHTS_PATH.stat().st_size <= 2 * 1024 * 1024
    contract = read_contract(WEIGHTS_PATH)
    assert contract.command.startswith("python -m training.train") and contract.date and contract.seed
    assert 0.99 < contract.mnist_test_accuracy <= 1 and contract.temperature > 0
    assert contract.preprocessing_version == PREPROCESSING_VERSION  # trained on what the app runs
    assert load_classifier().contract == contract


@pytest.mark.data
def test_shipped_weights_read_the_mnist_test_set_and_refuse_none_of_it():
    images, labels = data.load_mnist("t10k")
    classifier = load_classifier()
    probabilities = classifier(images.astype(np.float32) / 255)
    assert probabilities.shape == (10000, 11)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    # A floor under the shipped 99.54%, not the 99.6% target (MODEL_CARD.md says it is missed).
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.994
    assert (probabilities[:, -1] > classifier.not_a_digit_above).mean() <= 0.005


def test_drawings_by_held_out_writers(held_out_digits):
    correct = [max((p := predict(canvas_of(d, brush=6 + i % 4 * 8))), key=p.get) == str(d.label)
               for i, d in enumerate(held_out_digits)]
    assert np.mean(correct) >= 0.95, np.mean(correct)


def test_classifier_is_loaded_once():
    assert load_classifier() is load_classifier()
