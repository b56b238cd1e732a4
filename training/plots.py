"""Draw the model card's pictures from an evaluation report, for the app's Model tab and MODEL_CARD.md.

    python -m training.evaluate                          # writes reports/evaluate.json
    python -m training.plots reports/evaluate.json       # writes digitdraw/static/model/*.png

Each picture is drawn twice, for a light page (NAME.png) and a dark one (NAME-dark.png), 3.6 inches
wide at 200 dpi: on a 360 px phone screen its 8-point text is still 11 px tall. Needs matplotlib
(the dev extra); the app only shows the PNGs.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import textwrap
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from training.metrics import CALIBRATION_BINS, wilson_interval  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "digitdraw" / "static" / "model"
DPI = 200
WIDTH = 3.6  # inches: 360 CSS px on a phone at 2x
FONT = 8
# The page colours the pictures sit on (Gradio's default theme, light and dark) and their text.
THEMES = {"": {"background": "#ffffff", "text": "#1f2937", "muted": "#4b5563", "grid": "#d1d5db"},
          "-dark": {"background": "#0b0f19", "text": "#f3f4f6", "muted": "#d1d5db", "grid": "#374151"}}
ACCENT = "#ea580c"  # orange, 3.6:1 on white and 5.5:1 on the dark page: marks, not text
# A reliability bin with fewer answers is not drawn: its 95% interval would span over 30 points.
MIN_BIN_IMAGES = 30
# The conditions' axis starts no lower than this, so that 95-100% stays readable; a row under it is
# an arrow at the axis's edge with its value.
AXIS_FLOOR = 80
SURE_COLUMNS = 8  # non-digits shown as a sure digit: pictures a row

Report = dict[str, Any]


def short(name: str) -> str:
    """A population's or set's name short enough for a phone-width axis."""
    return re.split("[,:]", name)[0].replace(" (US)", ", US").replace(" (Istanbul)", ", Istanbul")


def title(fig: plt.Figure, text: str) -> None:
    """A title at the figure's left edge: over the axes alone, it ran off the right of a narrow plot."""
    fig.suptitle(text, x=0.02, ha="left", fontsize=FONT + 1)


def populations(report: Report, ax_theme: dict[str, str]) -> plt.Figure:
    pops = report["populations"]
    names = [textwrap.fill(short(n), 20) for n in pops]  # two lines: room for the cells' "100"s
    matrix = np.array([[c["accuracy"] * 100 for c in r["per_class"]] for r in pops.values()])
    fig, ax = plt.subplots(figsize=(WIDTH, 0.42 * len(pops) + 1.3))
    image = ax.imshow(matrix, cmap="viridis", vmin=90, vmax=100, aspect="auto")
    ax.set_xticks(range(10), [str(d) for d in range(10)])
    ax.set_yticks(range(len(names)), names)
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=FONT - 2,
                color="black" if value > 96 else "white")
    ax.set_xlabel("digit")
    title(fig, "Accuracy per class and population, %")
    bar = fig.colorbar(image, ax=ax, orientation="horizontal", pad=0.25, fraction=0.08, aspect=30)
    bar.set_label("accuracy, % (90 or less: darkest)", fontsize=FONT - 1)
    return fig


def conditions(report: Report, ax_theme: dict[str, str]) -> plt.Figure:
    rows = [(short(name), r) for name, r in report["populations"].items()]
    rows += [(name, r) for name, r in report["sets"].items()]
    rows += [(f"numbers {name}", {"accuracy": r["exact"], "low": r["low"], "high": r["high"]})
             for name, r in report.get("numbers", {}).items()]
    rows += [(f"{short(name)}, rejected", {"accuracy": r["share"], "low": r["low"], "high": r["high"]})
             for name, r in report.get("non_digits", {}).items()]
    names = [name for name, _ in rows][::-1]
    accuracy, low, high = (np.array([r[key] for _, r in rows][::-1]) * 100 for key in ("accuracy", "low", "high"))
    fig, ax = plt.subplots(figsize=(WIDTH, 0.17 * len(rows) + 1.0))
    shown = accuracy >= AXIS_FLOOR
    y = np.arange(len(rows))
    ax.errorbar(accuracy[shown], y[shown], xerr=[(accuracy - low)[shown], (high - accuracy)[shown]], fmt="o",
                color=ACCENT, ecolor=ax_theme["muted"], capsize=1.5, markersize=2.5, linewidth=0.8)
    for row in y[~shown]:  # off the axis: an arrow at its edge, and the value
        ax.plot(AXIS_FLOOR, row, marker="<", color=ACCENT, markersize=4, clip_on=False)
        ax.annotate(f"{accuracy[row]:.0f}%", (AXIS_FLOOR, row), xytext=(5, 0), textcoords="offset points",
                    va="center", fontsize=FONT - 2, color=ax_theme["text"])
    ax.set_yticks(y, names, fontsize=FONT - 1.5)
    ax.set_xlabel("accuracy, %")
    ax.set_xlim(max(AXIS_FLOOR, low.min() - 1), 100.3)
    ax.grid(axis="x", color=ax_theme["grid"], linewidth=0.5)
    title(fig, "Accuracy by population and set, 95% intervals\n(numbers: every digit right; "
               "not digits: rejected)")
    return fig


def confusion(report: Report, ax_theme: dict[str, str]) -> plt.Figure:
    matrix = np.sum([np.array(r["confusion"], float) for r in report["populations"].values()], axis=0)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(WIDTH, WIDTH * 0.95))
    image = ax.imshow(np.log10(np.maximum(shares, 1e-4)), cmap="magma_r", vmin=-4, vmax=0)
    ax.set_xticks(range(11), [str(d) for d in range(10)] + ["none"], fontsize=FONT - 1)
    ax.set_yticks(range(10), [str(d) for d in range(10)])
    ax.set_xlabel("read as (none: refused or no digit found)")
    ax.set_ylabel("true digit")
    title(fig, "Confusion, all populations")
    for (i, j), n in np.ndenumerate(matrix):
        if n and i != j:
            ax.text(j, i, int(n), ha="center", va="center", fontsize=FONT - 3, color="black")
    bar = fig.colorbar(image, ax=ax, orientation="horizontal", pad=0.18, fraction=0.05, aspect=30)
    bar.set_label("share of the row, log10")
    return fig


def pooled_reliability(report: Report) -> list[dict[str, float]]:
    """Every digit set's reliability bins pooled: per bin, mean confidence, accuracy and images.
    One set's low-confidence bins hold a handful of answers each; pooled, they hold hundreds."""
    pooled: dict[int, np.ndarray] = {}  # bin -> (images, right, sum of confidence)
    for r in [*report["populations"].values(), *report["sets"].values()]:
        answered = r["n"] - r["no_digit_found"] - r["not_a_digit"]
        for b in r["reliability"]:
            count = b["share"] * answered
            index = min(int(b["confidence"] * CALIBRATION_BINS), CALIBRATION_BINS - 1)
            pooled[index] = pooled.get(index, np.zeros(3)) + [count, b["accuracy"] * count, b["confidence"] * count]
    return [{"confidence": float(total / n), "accuracy": float(right / n), "n": round(n)}
            for _, (n, right, total) in sorted(pooled.items()) if n > 0]


def reliability(report: Report, ax_theme: dict[str, str]) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(WIDTH, WIDTH * 0.9))
    ax.plot([0, 1], [0, 1], color=ax_theme["muted"], linestyle="--", linewidth=0.8, label="calibrated")
    bins = [b for b in pooled_reliability(report) if b["n"] >= MIN_BIN_IMAGES]
    low, high = np.array([wilson_interval(round(b["accuracy"] * b["n"]), b["n"]) for b in bins]).T
    accuracy = np.array([b["accuracy"] for b in bins])
    ax.errorbar([b["confidence"] for b in bins], accuracy, yerr=[accuracy - low, high - accuracy], marker="o",
                markersize=2.5, linewidth=0.8, capsize=2, color=ACCENT,
                label=f"every digit set, {sum(b['n'] for b in bins):,} answers\n(95% intervals; bins of "
                      f"{MIN_BIN_IMAGES} or more)")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    title(fig, "Is a 90% answer right 90% of the time?")
    ax.legend(fontsize=FONT - 1.5, loc="upper left", frameon=False)
    return fig


def sure_non_digits(report: Report, ax_theme: dict[str, str]) -> plt.Figure:
    """Things that are not digits shown as a sure digit, a block per set: the 28x28 that the model
    read (the first metrics.SURE_EXAMPLES of each), and the digit it read over each."""
    blocks = []  # per set: its heading, then its rows of examples
    for name, r in report.get("non_digits", {}).items():
        examples = r.get("sure_examples", [])
        sure = round(r["shown_as_sure"]["share"] * r["n"])
        heading = f"{short(name)}: {sure} of {r['n']}" + (
            "" if not sure else ", read as" if len(examples) == sure else f", the first {len(examples)} read as")
        blocks.append((heading, [examples[i: i + SURE_COLUMNS] for i in range(0, len(examples), SURE_COLUMNS)]))
    heights = [h for _, rows in blocks for h in [0.35] + [1.0] * len(rows)]
    fig = plt.figure(figsize=(WIDTH, 0.5 * sum(heights) + 0.8))  # 0.8: the two lines of the title
    grid = fig.add_gridspec(len(heights), SURE_COLUMNS, height_ratios=heights)
    row = 0
    for heading, rows in blocks:
        ax = fig.add_subplot(grid[row, :])
        ax.axis("off")
        ax.text(0, 0, heading, fontsize=FONT - 1, ha="left", va="bottom", transform=ax.transAxes)
        for examples in rows:
            row += 1
            for column, example in enumerate(examples):
                ax = fig.add_subplot(grid[row, column])
                ax.axis("off")
                ax.imshow(np.frombuffer(base64.b64decode(example["pixels"]), np.uint8).reshape(28, 28), cmap="gray",
                          vmin=0, vmax=255)
                ax.set_title(example["read_as"], fontsize=FONT - 2, pad=1)
        row += 1
    title(fig, "Not digits shown as a sure digit,\nas the model saw them")
    return fig


PLOTS: dict[str, Callable[[Report, dict[str, str]], plt.Figure]] = {
    "populations": populations, "conditions": conditions, "confusion": confusion, "reliability": reliability,
    "sure_non_digits": sure_non_digits}


def draw_all(report: Report, out: Path) -> list[Path]:
    """Every picture in both themes; returns the files written."""
    written = []
    for suffix, theme in THEMES.items():
        style = {"figure.facecolor": theme["background"], "axes.facecolor": theme["background"],
                 "savefig.facecolor": theme["background"], "text.color": theme["text"],
                 "axes.labelcolor": theme["text"], "xtick.color": theme["text"], "ytick.color": theme["text"],
                 "axes.edgecolor": theme["muted"], "font.size": FONT, "axes.titlesize": FONT + 1}
        with plt.rc_context(style):
            for name, draw in PLOTS.items():
                fig = draw(report, theme)
                fig.tight_layout()
                path = out / f"{name}{suffix}.png"
                fig.savefig(path, dpi=DPI)
                plt.close(fig)
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the JSON that `python -m training.evaluate` wrote")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in draw_all(json.loads(args.report.read_text()), args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
