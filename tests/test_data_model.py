"""The IDX reader, the pendigits parser, the model's shape and size, augmentation, one training step."""

from __future__ import annotations

import dataclasses
import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import save_file

from digitdraw import mnist
from digitdraw.augment import augment, change_thickness
from digitdraw.inference import load_classifier
from digitdraw.model import (
    ARCHITECTURE,
    CLASSES,
    Contract,
    Net,
    WeightsMismatchError,
    for_inference,
    load_weights,
    read_contract,
    save_weights,
)
from digitdraw.preprocessing import PREPROCESSING_VERSION
from tests.harness import ROOT
from training import data
from training.train import (
    FALSE_REJECTION_BUDGET,
    calibration_weights,
    fit_calibration,
    fold_bias,
    logits_of,
    rejection_threshold,
    train,
)


def write_idx(path, array: np.ndarray, code: int = 0x08) -> None:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    (gzip.open(path, "wb") if str(path).endswith(".gz") else open(path, "wb")).write(payload)


@pytest.mark.parametrize("name", ["tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz"])
def test_idx_reader_on_a_tiny_fixture(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, images)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / name), images)


def test_idx_reader_handles_big_endian_ints(tmp_path):
    values = np.array([1, -2, 70000], dtype=np.int32)
    write_idx(tmp_path / "ints.idx", values, code=0x0C)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "ints.idx"), values)


def test_idx_reader_rejects_other_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX"):
        mnist.read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((2, 2), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match="header says"):
        mnist.read_idx(tmp_path / "short")


@pytest.mark.data
def test_training_reads_mnist_from_its_data_dir_as_the_app_does():
    images, labels = data.load_mnist("t10k", data.DEFAULT_MNIST_DIR)
    assert images.shape == (10000, 28, 28) and labels[:3].tolist() == [7, 2, 1]
    assert all(mnist.md5(data.DEFAULT_MNIST_DIR / name) == md5 for name, md5 in mnist.FILES.items())


def test_pendigits_parser(tmp_path):
    text = """.INCLUDE dene.doc

.SEGMENT DIGIT 0 ? "7"
.COMMENT 7 3 1
.PEN_DOWN
 10 400
 90 400
.PEN_UP
.DT 100
.PEN_DOWN
 50 300
.PEN_UP
.SEGMENT DIGIT 1 ? "1"
.COMMENT 1 4 2
.PEN_DOWN
 20 20
 20 480
.PEN_UP
"""
    (tmp_path / "p.tra").write_text(text)
    digits = data.load_pendigits(tmp_path / "p.tra")
    assert [(d.label, d.writer, len(d.strokes)) for d in digits] == [(7, 3, 2), (1, 4, 1)]
    np.testing.assert_array_equal(digits[0].strokes[0], [[10, 100], [90, 100]])  # y flipped to point down


def test_writer_splits_are_disjoint():
    splits = [set(data.TRAIN_WRITERS), set(data.CALIBRATION_WRITERS), set(data.TEST_WRITERS)]
    assert sum(map(len, splits)) == len(set.union(*splits)) == 30


def test_model_output_shape_and_size():
    model = Net().eval()
    assert sum(p.numel() for p in model.parameters()) == 233_011
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 11) == (5, len(CLASSES))
    assert CLASSES[-1] == "not a digit" and CLASSES[:10] == tuple("0123456789")


def test_the_inference_copy_gives_the_shipped_models_logits_and_leaves_it_alone():
    from digitdraw.paths import shipped
    model, _ = load_weights(shipped("weights") / "digitdraw.safetensors")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = for_inference(model)
    x = torch.rand(6, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-4, rtol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with pytest.raises(AssertionError):
        for_inference(Net().train())


def test_augmentation_keeps_shape_and_range():
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1
    out = augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x)
    thick = change_thickness(x, torch.ones(8))
    thin = change_thickness(x, -torch.ones(8))
    assert thick.sum() > x.sum() > thin.sum()


def bars_and_rings(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """28x28 digits with no data set: upright bars ("1") and rings ("0"), in MNIST's form."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for i in range(count):
        image = Image.new("L", (28, 28), 0)
        x, w = 14 + rng.integers(-2, 3), int(rng.integers(2, 4))
        if i % 2:
            ImageDraw.Draw(image).line([(x, 4), (x + rng.integers(-3, 4), 23)], fill=255, width=w)
        else:
            ImageDraw.Draw(image).ellipse((x - 7, 4, x + 7, 23), outline=255, width=w)
        images.append(np.asarray(image, np.float32) / 255)
        labels.append(i % 2)
    return torch.from_numpy(np.stack(images))[:, None], torch.tensor(labels)


def test_the_training_loop_learns_bars_from_rings():
    torch.manual_seed(0)
    x, y = bars_and_rings(256)
    model = Net().to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    epochs, batch = 3, 32
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=epochs * len(x) // batch)
    generator = torch.Generator().manual_seed(0)
    losses = [train(model, x, y, torch.randperm(len(x), generator=generator), optimizer, scheduler, generator,
                    batch_size=batch)[0] for _ in range(epochs)]
    assert losses[-1] < losses[0] / 2, losses  # augmented batches, one-cycle schedule, AdamW steps
    accuracy = (logits_of(model, x, "cpu").argmax(1) == y).float().mean()
    assert accuracy > 0.95 and not model.training


CONTRACT = Contract(preprocessing_version=PREPROCESSING_VERSION, temperature=1.5, command="python -m training.train",
                    seed=7, train_writers=(1, 2))


def test_weights_round_trip_with_their_contract(tmp_path):
    model = Net().eval()
    save_weights(model, tmp_path / "w.safetensors", CONTRACT)
    loaded, contract = load_weights(tmp_path / "w.safetensors")
    assert contract == CONTRACT == read_contract(tmp_path / "w.safetensors")
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model(x))


@pytest.mark.parametrize("field, value", [("architecture", "digitdraw-cnn-v1"), ("input_size", 32), ("mean", 0.5),
                                          ("classes", tuple("0123456789"))])
def test_weights_made_for_another_model_are_refused(tmp_path, field, value):
    save_weights(Net().eval(), tmp_path / "w.safetensors", dataclasses.replace(CONTRACT, **{field: value}))
    with pytest.raises(WeightsMismatchError, match=field):
        load_weights(tmp_path / "w.safetensors")


def test_weights_of_another_preprocessing_version_are_refused(tmp_path):
    save_weights(Net().eval(), tmp_path / "w.safetensors", dataclasses.replace(CONTRACT, preprocessing_version="1"))
    with pytest.raises(WeightsMismatchError, match="preprocessing version 1"):
        load_classifier(tmp_path / "w.safetensors")


def test_weights_without_a_contract_are_refused(tmp_path):
    save_file({"x": torch.zeros(1)}, str(tmp_path / "w.safetensors"), metadata={"architecture": ARCHITECTURE})
    with pytest.raises(WeightsMismatchError, match="no contract"):
        load_weights(tmp_path / "w.safetensors")


def test_the_rejection_threshold_refuses_at_most_the_budget_of_held_out_digits():
    rng = np.random.default_rng(0)
    labels = np.array([3] * 9000 + [10] * 1000)
    not_a_digit = np.concatenate([rng.beta(0.3, 20, 9000), rng.beta(20, 0.5, 1000)])
    threshold = rejection_threshold(not_a_digit, labels)
    digits = not_a_digit[labels != 10]
    assert (digits > threshold).mean() <= FALSE_REJECTION_BUDGET < (digits > threshold * 0.99).mean()
    assert (not_a_digit[labels == 10] > threshold).mean() > 0.99  # the negatives, far above, are not what sets it


def test_calibration_recovers_a_known_temperature_and_bias():
    torch.manual_seed(0)
    true_logits = torch.randn(20000, 11) * 3
    labels = torch.distributions.Categorical(logits=true_logits).sample()
    lean = torch.tensor([0.0, -1.0, 0, 0.5, 0, 0, 0, 1.0, 0, 0, -0.5])  # e.g. a 1 leaning to 7
    temperature, bias = fit_calibration(true_logits * 2.5 + 2.5 * lean, labels)
    assert temperature == pytest.approx(2.5, rel=0.05)
    np.testing.assert_allclose(bias, -(lean - lean.mean()), atol=0.1)


def test_calibration_weighs_each_population_of_a_class_the_same():
    labels = np.array([1] * 90 + [1] * 10 + [7] * 50)
    populations = np.array(["continental"] * 90 + ["USPS"] * 10 + ["USPS"] * 50)
    weight = calibration_weights(labels, populations).numpy()
    assert weight[:90].sum() == pytest.approx(0.5) and weight[90:100].sum() == pytest.approx(0.5)
    assert weight[100:].sum() == pytest.approx(1.0)


def test_a_population_that_leans_does_not_outvote_the_others_because_it_is_many():
    # Continental 1s the model reads as 7 and US 7s it reads right: as many of the 1s as the 7s
    # and the US 1s together would pull the bias far to 1; weighed by population, less far.
    torch.manual_seed(0)
    logits = torch.zeros(1100, 11)
    logits[:1000, 7] = 2.0  # 1s leaning to 7
    logits[1000:, 7] = 4.0  # 7s
    labels = torch.tensor([1] * 1000 + [7] * 100)
    populations = np.array(["continental"] * 900 + ["USPS"] * 200)
    logits[900:1000, 1], logits[900:1000, 7] = 4.0, 0.0  # US 1s, read right
    _, by_count = fit_calibration(logits, labels)
    _, by_population = fit_calibration(logits, labels, populations)
    assert 0 < by_population[1] - by_population[7] < by_count[1] - by_count[7]


def test_the_bias_folded_into_the_last_layer_gives_the_calibrated_probabilities():
    model = Net().eval()
    x, bias = torch.rand(4, 1, 28, 28), torch.linspace(-1, 1, 11)
    expected = torch.softmax(model(x) / 1.7 + bias, dim=1)
    fold_bias(model, 1.7, bias)
    torch.testing.assert_close(torch.softmax(model(x) / 1.7, dim=1), expected)


@pytest.mark.data
def test_training_runs_end_to_end_and_records_how_to_reproduce_it(tmp_path):
    out = tmp_path / "w.safetensors"
    result = subprocess.run([sys.executable, "-m", "training.train", "--dry-run", "--epochs", "1", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    model, contract = load_weights(out)
    assert contract.command == f"python -m training.train --dry-run --epochs 1 --out {out}"
    assert contract.preprocessing_version == PREPROCESSING_VERSION
    assert contract.input_size == 28 and contract.train_writers == data.TRAIN_WRITERS
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 11)
    assert 0 < contract.not_a_digit_above <= 1
