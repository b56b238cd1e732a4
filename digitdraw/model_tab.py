"""The Model tab: what the shipped weights are, their measured accuracy as pictures, their layers."""

from __future__ import annotations

from .gradio_compat import file_url
from .inference import Classifier
from .model import layer_table
from .paths import PACKAGE_DIR

PLOTS_DIR = PACKAGE_DIR / "static" / "model"  # drawn by training/plots.py from the evaluation report
PLOTS = (("per_class.png", "Accuracy per class on drawn digits"), ("confusion.png", "Confusion matrix"),
         ("conditions.png", "Accuracy by condition, with 95% intervals"), ("reliability.png", "Reliability"))

CSS = """
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 16px; }
figure { margin: 0; } figure img { width: 100%; height: auto; }
figcaption { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
table { border-collapse: collapse; font-size: var(--text-sm); } td, th { padding: 2px 10px; text-align: left; }
td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
"""


def model_card_html(classifier: Classifier) -> str:
    """The tab's HTML, from the weights' contract, the model's layers and the evaluation's plots."""
    contract = classifier.contract
    layers = layer_table(classifier.model)
    rows = "".join(f"<tr><td>{name}</td><td>{what}</td><td>{count:,}</td></tr>" for name, what, count in layers)
    total = sum(count for _, _, count in layers)
    plots = "".join(f'<figure><img src="{file_url(PLOTS_DIR / name)}" alt="{title}" loading="lazy">'
                    f"<figcaption>{title}</figcaption></figure>" for name, title in PLOTS
                    if (PLOTS_DIR / name).exists())
    return f"""
<h2>The model</h2>
<p>A small CNN trained on MNIST and on drawings, photos and scans rendered from 20 pendigits writers
(<code>{contract.command}</code>, {contract.date}). MNIST test accuracy
{contract.mnist_test_accuracy:.2%}; calibrated with temperature {contract.temperature:.2f}.
Measured on writers, scans and photos it never saw (<code>python -m training.evaluate</code>):</p>
<div class="plots">{plots}</div>
<h3>Layers ({total:,} parameters)</h3>
<table><thead><tr><th>layer</th><th>what it is</th><th>parameters</th></tr></thead><tbody>{rows}</tbody></table>
"""
