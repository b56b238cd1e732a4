"""The Model tab: what the shipped weights are, their measured accuracy as pictures, their layers in words."""

from __future__ import annotations

import html
import re

import torch
from torch import nn

from .gradio_compat import file_url
from .inference import Classifier
from .paths import PACKAGE_DIR

PLOTS_DIR = PACKAGE_DIR / "static" / "model"  # drawn by training/plots.py from the evaluation report, light and dark
PLOTS = (("populations", "Accuracy per class, for each population of writers"),
         ("conditions", "Accuracy by population, set and number length, and how often non-digits are rejected, "
                        "with 95% intervals"),
         ("confusion", "What each digit is read as"),
         ("reliability", "Reliability: how often an answer of each confidence is right"),
         ("sure_non_digits", "Things that are not digits that the model was sure were digits, as it saw them"))

CSS = """
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); gap: 16px; }
figure { margin: 0; min-width: 0; }
figure img { display: block; width: 100%; max-width: 560px; height: auto; }
.dark-only { display: none !important; }
.dark & .dark-only { display: block !important; }
.dark & .light-only { display: none !important; }
figcaption { font-size: var(--text-sm); color: var(--body-text-color); }
.table { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: var(--text-sm); }
td, th { padding: 3px 10px; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid var(--border-color-primary); }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
code { overflow-wrap: anywhere; }
"""


def _maps(shape: torch.Size) -> str:
    """An output shape in words: "32 maps of 28x28", or "11 numbers"."""
    if len(shape) == 4:
        return f"{shape[1]} maps of {shape[2]}x{shape[3]}"
    return f"{shape[1]:,} numbers"


def _say(module: nn.Module) -> str:
    """One layer in plain words."""
    if isinstance(module, nn.Conv2d):
        return (f"{module.kernel_size[0]}x{module.kernel_size[1]} convolution: {module.out_channels} filters, each "
                f"looking at {module.in_channels} {'channel' if module.in_channels == 1 else 'maps'}")
    if isinstance(module, nn.BatchNorm2d):
        return f"batch normalisation: each of the {module.num_features} maps brought to a steady scale"
    if isinstance(module, nn.ReLU):
        return "ReLU: keeps the positive values, sets the others to 0"
    if isinstance(module, nn.MaxPool2d):
        return f"max-pooling: keeps the largest value of each {module.kernel_size}x{module.kernel_size} block"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return "average pooling: each map averaged down to a few numbers"
    if isinstance(module, nn.Dropout):
        return f"dropout: while training, {module.p:.0%} of the values are dropped at random"
    if isinstance(module, nn.Flatten):
        return "flatten: all the maps' values in one row"
    if isinstance(module, nn.Linear):
        return f"fully connected: weighs the {module.in_features:,} numbers into {module.out_features} scores, one per class"
    return type(module).__name__


def layer_rows(model: nn.Module, size: int = 28) -> list[tuple[str, str, int]]:
    """(what it does, what comes out, parameter count) of each layer, in the order the input meets
    them; a convolution's batch normalisation and ReLU share its row."""
    seen: list[tuple[nn.Module, torch.Size]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o.shape)))
             for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, size, size))
    finally:
        for hook in hooks:
            hook.remove()
    rows: list[tuple[str, str, int]] = []
    for module, shape in seen:
        count = sum(p.numel() for p in module.parameters())
        if isinstance(module, (nn.BatchNorm2d, nn.ReLU)) and rows and "convolution" in rows[-1][0]:
            what, _, before = rows[-1]
            part = "batch normalisation" if isinstance(module, nn.BatchNorm2d) else "ReLU (negatives to 0)"
            rows[-1] = (f"{what}, then {part}", _maps(shape), before + count)
        else:
            rows.append((_say(module), _maps(shape), count))
    return rows


def shown_command(command: str) -> str:
    """The training command without where the data sat on the machine that ran it."""
    return re.sub(r" --data-dir \S+", "", command)


def _plot(name: str, caption: str) -> str:
    images = "".join(f'<img class="{theme}-only" src="{file_url(PLOTS_DIR / f"{name}{suffix}.png")}" alt="{caption}" '
                     f'loading="lazy">' for theme, suffix in (("light", ""), ("dark", "-dark")))
    return f"<figure>{images}<figcaption>{caption}</figcaption></figure>"


def model_card_html(classifier: Classifier) -> str:
    """The tab's HTML, from the weights' contract, the model's layers and the evaluation's plots."""
    contract = classifier.contract
    layers = layer_rows(classifier.model, contract.input_size)
    rows = "".join(f"<tr><td>{html.escape(what)}</td><td>{out}</td><td class=\"count\">{count:,}</td></tr>"
                   for what, out, count in layers)
    total = sum(count for *_, count in layers)
    plots = "".join(_plot(name, caption) for name, caption in PLOTS if (PLOTS_DIR / f"{name}.png").exists())
    return f"""
<h2>The model</h2>
<p>A small CNN trained on MNIST, on drawings, photos and scans rendered from writers in the US and in
Istanbul, on continental forms of their digits, and on things that are not digits
(<code>{html.escape(shown_command(contract.command))}</code>, {contract.date}). MNIST test accuracy
{contract.mnist_test_accuracy:.2%}; calibrated with temperature {contract.temperature:.2f} and a bias per class; it says
"not a digit" when that class is over {contract.not_a_digit_above:.0%}. Measured on writers, scans and
photos it never saw (<code>python -m training.evaluate</code>; the whole model card is MODEL_CARD.md):</p>
<div class="plots">{plots}</div>
<h3>Layers ({total:,} parameters)</h3>
<p>A 28x28 digit goes through these in order; the last layer's 11 scores become the probabilities.</p>
<div class="table"><table><thead><tr><th>what it does</th><th>what comes out</th><th>parameters</th></tr></thead>
<tbody>{rows}</tbody></table></div>
"""
