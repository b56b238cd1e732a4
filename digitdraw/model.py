"""The CNN, and its weights as safetensors (no pickle) with their contract in the file's header.

    model = Net()                                   # (N, 1, 28, 28) in [0, 1] -> (N, 11) logits
    save_weights(model, path, contract)
    model, contract = load_weights(path)            # refuses weights made for another model
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Bump when the layers change: weights of another version will not load. (v2: an 11th class, and
# wider layers; v3: 40 channels.)
ARCHITECTURE = "digitdraw-cnn-v3"
# Channels of the first layers (then twice, then four times as many). With the world's handwriting
# and "not a digit", 32 underfit (training accuracy 98.9%, held-out writers 98.4%, MNIST test
# 99.54%); 40 reaches 99.1%, 98.7% and 99.65% (99.63% once its calibration weighed populations) for
# 0.3-0.4 ms more a digit on one core (1.3 -> 1.7 ms, the two interleaved; see MODEL_CARD.md).
WIDTH = 40
# MNIST's training-set mean and standard deviation: the network normalises its own input with them.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
INPUT_SIZE = 28
DIGITS = tuple(str(d) for d in range(10))
# The classes the network tells apart: the ten digits, and everything else people draw or photograph.
NOT_A_DIGIT = "not a digit"
CLASSES = DIGITS + (NOT_A_DIGIT,)
# The safetensors header key that holds the contract, as JSON.
CONTRACT_KEY = "contract"


class WeightsMismatchError(ValueError):
    """A weights file whose contract does not match what this code gives it or expects of it."""


@dataclass(frozen=True)
class Contract:
    """What a weights file expects and gives, and how it was made (like timm's `pretrained_cfg`).

    Stored in the safetensors header and checked when the weights load: a file made for another
    architecture, input, normalisation, preprocessing or set of classes is refused.
    """

    preprocessing_version: str  # digitdraw.preprocessing.PREPROCESSING_VERSION it was trained on
    temperature: float  # divides the logits before the softmax: fitted on held-out data
    command: str  # the training command that made it
    not_a_digit_above: float = 1.0  # a "not a digit" probability over this rejects the image (chosen on held-out data)
    architecture: str = ARCHITECTURE
    input_size: int = INPUT_SIZE  # the input is (N, 1, input_size, input_size)
    input: str = "float32 in [0, 1], white digit on black, MNIST recipe (digitdraw.preprocessing)"
    mean: float = MNIST_MEAN  # normalisation, applied inside the model
    std: float = MNIST_STD
    classes: tuple[str, ...] = CLASSES  # what each logit stands for, in order
    seed: int = 0
    date: str = ""
    mnist_test_accuracy: float = 0.0  # as saved, calibration and all, on the 10,000 MNIST test digits
    train_writers: tuple[int, ...] = ()  # pendigits writers whose strokes it was trained on

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Contract:
        fields = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(fields, dict) or set(fields) - known:
            raise WeightsMismatchError(f"unknown contract fields: {sorted(set(fields) - known)}")
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        return cls(**fields)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class Net(nn.Module):
    """Five 3x3 conv layers, two max-pools, global pooling and one linear layer (233,011 params).

    Takes (N, 1, 28, 28) floats in [0, 1] (white digit on black) and returns (N, 11) logits: the
    ten digits, then "not a digit".
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_block(1, WIDTH), conv_block(WIDTH, WIDTH), nn.MaxPool2d(2),              # 28 -> 14
            conv_block(WIDTH, 2 * WIDTH), conv_block(2 * WIDTH, 2 * WIDTH), nn.MaxPool2d(2),  # 14 -> 7
            conv_block(2 * WIDTH, 4 * WIDTH), nn.Dropout(0.1),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4 * WIDTH * 3 * 3, len(CLASSES)))
        self.pool = nn.AdaptiveAvgPool2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - MNIST_MEAN) / MNIST_STD
        return self.classifier(self.pool(self.features(x)))


def for_inference(model: Net) -> Net:
    """A copy that computes the same logits (within 1e-5) about a third faster on a CPU: each
    batch norm folded into the conv before it, and the weights in channels-last layout, the one
    oneDNN's convolutions run fastest. For reading only: it has no batch norm left to train."""
    assert not model.training, "fold batch norm only with its running statistics (eval mode)"
    fast = copy.deepcopy(model)
    for block in fast.features:
        if isinstance(block, nn.Sequential):  # conv_block: conv, batch norm, ReLU
            block[0], block[1] = fuse_conv_bn_eval(block[0], block[1]), nn.Identity()
    return fast.to(memory_format=torch.channels_last)


def save_weights(model: nn.Module, path: str | Path, contract: Contract) -> None:
    """Save the weights as safetensors, with the contract (JSON) in the file header."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={CONTRACT_KEY: contract.to_json()})


def read_contract(path: str | Path) -> Contract:
    """The contract in a weights file's header; WeightsMismatchError if it has none."""
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata() or {}
    if CONTRACT_KEY not in header:
        raise WeightsMismatchError(f"{path} has no contract in its header (weights of another program?)")
    return Contract.from_json(header[CONTRACT_KEY])


def load_weights(path: str | Path) -> tuple[Net, Contract]:
    """A Net in eval mode with the weights from `path`, and their contract.

    Raises WeightsMismatchError when the contract asks for another architecture, input size,
    normalisation or set of classes than Net has.
    """
    contract = read_contract(path)
    expected = Contract(contract.preprocessing_version, contract.temperature, contract.command)
    for field in ("architecture", "input_size", "mean", "std", "classes"):
        if getattr(contract, field) != getattr(expected, field):
            raise WeightsMismatchError(f"{path} was made for {field} {getattr(contract, field)!r}; "
                                       f"this digitdraw's model has {getattr(expected, field)!r}")
    model = Net()
    model.load_state_dict(load_file(str(path)))
    return model.eval(), contract
