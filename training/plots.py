"""Draw the model card's pictures from an evaluation report, for the app's Model tab and the README.

    python -m training.evaluate                          # writes reports/evaluate.json
    python -m training.plots reports/evaluate.json       # writes digitdraw/static/model/*.png

Needs matplotlib (the dev extra); the app only shows the PNGs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "digitdraw" / "static" / "model"
DPI = 110  # about 700 px wide at the figures' size


def per_class(report: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    accuracy = np.array(report["sets"]["drawn digits"]["per_class"]) * 100
    ax.bar([str(d) for d in range(10)], accuracy, color="#f97316")
    ax.set_ylim(max(0, accuracy.min() - 5), 100)
    ax.set_xlabel("digit")
    ax.set_ylabel("accuracy, %")
    ax.set_title("Drawn digits by held-out writers, per class")
    for d, a in enumerate(accuracy):
        ax.text(d, a + 0.1, f"{a:.1f}", ha="center", va="bottom", fontsize=8)
    save(fig, path)


def confusion(report: dict[str, Any], path: Path) -> None:
    matrix = np.array(report["sets"]["drawn digits"]["confusion"], float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    image = ax.imshow(np.log10(np.maximum(shares, 1e-4)), cmap="magma_r", vmin=-4, vmax=0)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("read as")
    ax.set_ylabel("true digit")
    ax.set_title("Drawn digits: confusion (share of each row, log scale)")
    for (i, j), n in np.ndenumerate(matrix):
        if n and i != j:
            ax.text(j, i, int(n), ha="center", va="center", fontsize=7, color="black")
    fig.colorbar(image, ax=ax, label="log10 share")
    save(fig, path)


def conditions(report: dict[str, Any], path: Path) -> None:
    rows = [(name, r) for name, r in report["sets"].items()]
    rows += [(f"drawn: {tag}", g) for tag, g in report["sets"]["drawn digits"]["conditions"].items()
             if not tag.startswith("form ")]
    for name in ("tight drawings", "scans"):  # the margin bins: digits that fill the frame
        rows += [(f"{name}: {tag}", g) for tag, g in report["sets"].get(name, {}).get("conditions", {}).items()
                 if tag.startswith("margin")]
    rows += [(f"numbers {name}", {"accuracy": r["exact"], "low": r["low"], "high": r["high"]})
             for name, r in report.get("numbers", {}).items()]
    names = [name for name, _ in rows][::-1]
    accuracy = np.array([r["accuracy"] for _, r in rows][::-1]) * 100
    low = np.array([r["low"] for _, r in rows][::-1]) * 100
    high = np.array([r["high"] for _, r in rows][::-1]) * 100
    fig, ax = plt.subplots(figsize=(7.2, 0.24 * len(rows) + 1.2))
    ax.errorbar(accuracy, range(len(rows)), xerr=[accuracy - low, high - accuracy], fmt="o", color="#f97316",
                ecolor="#555", capsize=2, markersize=4)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("accuracy (numbers: exact match), % with 95% interval")
    ax.set_xlim(max(0, low.min() - 2), 100.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Accuracy by test set and condition")
    save(fig, path)


def reliability(report: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name in ("drawn digits", "scans", "photos"):
        bins = report["sets"][name]["reliability"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", markersize=3,
                label=f"{name} (ECE {report['sets'][name]['ece']:.1%})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability: is a 90% answer right 90% of the time?")
    ax.legend(fontsize=8)
    save(fig, path)


def save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the JSON that `python -m training.evaluate --json` wrote")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    for draw in (per_class, confusion, conditions, reliability):
        draw(report, args.out / f"{draw.__name__}.png")


if __name__ == "__main__":
    main()
