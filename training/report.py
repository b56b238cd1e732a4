"""Writing the evaluation's report: the console summary, the JSON, and the model card's Markdown.

    python -m training.evaluate      # measures, then writes reports/evaluate.json and MODEL_CARD.md
    python -m training.report        # MODEL_CARD.md again from reports/evaluate.json (no measuring)

MODEL_CARD.md is only ever written from the report: a test checks that the committed card is what
the committed report gives. Its targets are the issues' (#9, #11, #19), checked against the report.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from digitdraw.inference import WEIGHTS_PATH
from digitdraw.model import Contract, read_contract
from training.eval_sets import SCRIBBLES

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "evaluate.json"
MODEL_CARD = ROOT / "MODEL_CARD.md"
# Conditions under this accuracy are listed as weak spots (with at least WEAK_MIN_IMAGES images,
# so that one unlucky image in a small group is not one).
WEAK_BELOW = 0.97
WEAK_MIN_IMAGES = 40
# "At least as good as today": what the weights of 2026-11-22 measured on these sets
# (`python -m training.evaluate` on them, the day this model was trained).
BEFORE = {"photos": 0.989, "pencil": 0.98, "ruled paper": 0.992}
# What the calibration's bias per class did to the 32-channel weights of 2026-12-02, on the
# populations' classes: (population, digit) -> (temperature alone, commit 018b723; with the bias,
# commit 5ba5677). The accuracy of those weights on MNIST's test set was 99.49% and 99.54%.
BIAS_ON_32_CHANNELS = {("pendigits", 1): (0.9355, 0.9806), ("continental", 1): (0.9581, 0.9742),
                       ("MNIST", 7): (0.9864, 0.9747), ("USPS", 7): (0.9703, 0.9505)}
# The 40-channel weights of 2026-12-03 with the bias fitted weighing every class the same but not
# every population in it (commit 516118a), then every population too (commit d0bac2b), each
# `python -m training.evaluate`, seed 0: the same classes, the scans set's 7s, and Omniglot's
# rejected and shown-as-sure shares.
CLASS_WEIGHED_ON_40_CHANNELS = {("pendigits", 1): 0.9742, ("continental", 1): 0.9839, ("MNIST", 7): 0.9737,
                                ("USPS", 7): 0.9307, "scans 7": 0.9455, "Omniglot": 0.9326, "Omniglot sure": 0.0177}
POPULATION_WEIGHED_ON_40_CHANNELS = {("pendigits", 1): 0.9742, ("continental", 1): 0.9774, ("MNIST", 7): 0.9805,
                                     ("USPS", 7): 0.9703, "scans 7": 0.9728, "Omniglot": 0.9235, "Omniglot sure": 0.0228}
# Those weights (commit d0bac2b, trained with 120 scribbles among 3,000 shapes) on this card's sets,
# for the retraining with 3,000 scribbles more: MNIST's test set, the scribbles' and the shapes'
# rejected and shown-as-sure shares (a drawing whose pen goes over itself shown unsure, as in the
# app), and the whole numbers drawn with ordinary spacing.
BEFORE_SCRIBBLES = {"MNIST": 0.9962, "scribbles": 0.7825, "scribbles sure": 0.0645, "shapes": 0.9820,
                    "numbers drawn, ordinary": 0.9733, "light-ink scans refused": 3}
# These weights with the old rule's threshold, an even chance (0.5) instead of the calibration
# digits' 0.2%: Omniglot's held-out characters rejected, and photos of a page on a desk refused (of 500).
AT_EVEN_CHANCE = {"Omniglot": 0.8892, "desk refused": 1}
# The photos of a page on a desk that these weights refuse, looked at one by one (the bullet on
# refusing says what each 28x28 holds while their count is this).
DESK_REFUSALS_SEEN = 2
# The light-ink scans that these weights refuse, looked at one by one (the scribbles' bullet says
# what they are while their count is this).
LIGHT_SCAN_REFUSALS_SEEN = 6

Report = dict[str, Any]


def _most_read_as(r: Report, digit: int) -> str:
    """What a population's digit is most often read as when it is read wrong (the confusion's row)."""
    row = list(r["confusion"][digit])
    row[digit] = -1
    wrong = max(range(len(row)), key=row.__getitem__)
    return "not a digit, or not found" if wrong == 10 else f"a {wrong}"


def trade_offs(report: Report) -> str:
    """What the targets that are missed trade against: the report's numbers, beside those of
    earlier weights' cards and training logs (the constants above). A bullet whose sets the report
    lacks is left out."""
    populations, sets, non_digits = report["populations"], report["sets"], report["non_digits"]
    bullets = [f"""- **MNIST against everyone else.** The weights of 2026-11-22 read MNIST's test set at 99.64%; these,
  which learn continental forms, optdigits and "not a digit" too, at {report["mnist_test"]:.2%}. With 32 channels
  (151,851 parameters) the same training underfit: 98.9% of the (augmented) training images and 98.4%
  of the held-out calibration writers were read right at its end, and MNIST's test set 99.54%. With
  40 (233,011 parameters, 0.3-0.4 ms more a digit on one core: 1.3 -> 1.7 ms) those were 99.1% and
  98.7%: capacity was what MNIST lacked."""]
    scribbles = non_digits.get(SCRIBBLES)
    omniglot = next((r for name, r in non_digits.items() if name.startswith("Omniglot")), None)
    numbers = report.get("numbers", {}).get("drawn, ordinary")
    light = sets.get("scans, light ink")
    if scribbles and omniglot and numbers and light:
        before, sure = BEFORE_SCRIBBLES, scribbles["shown_as_sure"]["share"]
        lost = round((before["numbers drawn, ordinary"] - numbers["exact"]) * numbers["n"])
        refused = f'{before["light-ink scans refused"]} -> {light["not_a_digit"]}'
        seen = "" if light["not_a_digit"] != LIGHT_SCAN_REFUSALS_SEEN else (
            ":\n  a fat 0 taken for a sheet on a desk, its hole for the writing, a blurred scan read as a bar,\n"
            "  and, read as they are, an odd 5 and 4, a square 0 and a plain 2")
        bullets.append(f"""- **Scribbles against the rest.** The weights before these saw 120 scribbles among 3,000 shapes, and
  rejected {before["scribbles"]:.1%} of this card's scribbles, showing {before["scribbles sure"]:.1%} as a sure digit (most
  coils as an 8, hatching as a 4). These trained on 3,000 scribbles more (tangles, coils, hatching):
  {scribbles["share"]:.1%} rejected, {sure:.2%} shown as a sure digit (the picture at the end). The app shows a drawing
  whose pen goes over itself, or winds round like a coil, as unsure, whatever the model reads, and
  this card counts it so: a coil drawn with a brush so broad that its turns merge into one bar is a
  fat 1 to the model. Hatching photographed so dense that it is one blot is read whole, not as
  its hollow outline (`ink.EDGE_STEP`).
  It cost MNIST's test set {before["MNIST"]:.2%} -> {report["mnist_test"]:.2%} and drawn numbers with ordinary spacing
  {before["numbers drawn, ordinary"]:.1%} -> {numbers["exact"]:.1%} ({lost} numbers of {numbers["n"]}; the 95%
  intervals overlap), the light-ink scans' refusals {refused} of {light["n"]} ({refused_share(light):.2%}{seen}),
  and Omniglot's characters are shown as a sure digit more often
  ({POPULATION_WEIGHED_ON_40_CHANNELS["Omniglot sure"]:.2%} -> {omniglot["shown_as_sure"]["share"]:.2%}): most of them are drawn
  like the digit they are read as (the picture at the end).""")
    desk, empty_desk = sets.get("photos of a page on a desk"), report["rejection"].get("a page on a desk")
    if desk and omniglot and empty_desk is not None:
        even = AT_EVEN_CHANCE
        bullets.append(f"""- **Refusing non-digits against refusing digits.** An image is refused where 0.2% of the calibration
  writers' digits would be. The rule used to stop at an even chance, but the calibration's bias lowers
  "not a digit" for every image (the digits outweigh it ten to one), and at an even chance these
  weights rejected {even["Omniglot"]:.1%} of Omniglot's held-out characters (now {omniglot["share"]:.1%}) and
  refused {even["desk refused"]} of the 500 photos of a page on a desk (now {desk["not_a_digit"]},
  {refused_share(desk):.1%}). Those photos were refused 1.6% while a page half in shadow was missed and
  read as one light blob, before its sharp edge found it; accuracy there was 90.0% with the weights
  of 2026-11-22 and is {desk["accuracy"]:.1%} now, while such a page with no digit is rejected
  {empty_desk:.0%} of the time (6% before).""" + ("" if desk["not_a_digit"] != DESK_REFUSALS_SEEN else f"""
  The {DESK_REFUSALS_SEEN} refused now are not the threshold's to fix: each 28x28 holds more than the digit, and
  the model is right that it is none. A note's fat marker 0 is too broad to pass for writing on it,
  so the photo is read whole, with the note's edges; a page's shaded corner leaves its edge beside
  a 2. (A third, a 5 under the edge of a shadow, was read right once the largest sheet found was
  read rather than the first: the lit part of the note.) The lever is `sheet.py`."""))
    lean = _bias_trade(populations, sets.get("scans"))
    if lean:
        bullets.append(lean)
    weak = sorted((r["per_class"][d]["accuracy"], d, name, _most_read_as(r, d))
                  for name, r in populations.items() for d in range(10) if r["per_class"][d]["accuracy"] < 0.96)
    bullets.append(("- **The weakest classes**, under 96%: "
                    + "; ".join(f"{d}s of {name} {accuracy:.1%} (most often read as {as_what})"
                                for accuracy, d, name, as_what in weak)
                    + ". A bare stroke, a flagged 1 and a bar-less 7 sit close together; real continental 1s to"
                    " train on, and real US 7s, are the levers.") if weak else "- No class of any population is under 96%.")
    if "photos" in sets:
        bullets.append(f"- **Photos** are at {sets['photos']['accuracy']:.1%} against {BEFORE['photos']:.1%} before.")
    return "\n".join(["## Where the targets pull against each other", ""] + bullets)


def _bias_trade(populations: dict[str, Report], scans: Report | None) -> str | None:
    """What the calibration's bias per class gained on flagged 1s and cost on US 7s (BIAS_ON_32_CHANNELS),
    what weighing its populations changed (the 40-channel constants), and where these weights stand."""
    def find(start: str) -> Report | None:
        return next((r for name, r in populations.items() if name.startswith(start)), None)

    if scans is None or any(find(start) is None for start, _ in BIAS_ON_32_CHANNELS):
        return None

    def moved(start: str, d: int) -> str:
        alone, biased = BIAS_ON_32_CHANNELS[start, d]
        return f"{alone:.1%} -> {biased:.1%}"

    def weighed(key: Any) -> str:
        return f"{CLASS_WEIGHED_ON_40_CHANNELS[key]:.1%} -> {POPULATION_WEIGHED_ON_40_CHANNELS[key]:.1%}"

    def now(start: str, d: int) -> str:
        return f"{find(start)['per_class'][d]['accuracy']:.1%}"
    usps_7 = find("USPS")["per_class"][7]
    return f"""- **Flagged 1s against US 7s.** A 1 with a long flag and no foot is a 7 without a bar to a US
  reader, and the model leans to 7. Calibration fits a bias per class beside the temperature. On the
  32-channel weights, against a temperature alone, it moved the 1s of pendigits writers 25-30
  {moved("pendigits", 1)} and continental 1s {moved("continental", 1)}, and cost US 7s: MNIST's drawn
  {moved("MNIST", 7)}, USPS's {moved("USPS", 7)}. That bias weighed every class the same, but within a
  class every image the same, so the populations with the most images set it: of the calibration
  split's 1,514 7s, 563 are MNIST's, 416 continental renders, 166 USPS's and 57 optdigits'. The bias
  now weighs every population of a class the same too (MNIST, USPS, pendigits, optdigits,
  continental). On the 40-channel weights of 2026-12-03, against every class alone, it moved
  pendigits 1s {weighed(("pendigits", 1))}, continental 1s {weighed(("continental", 1))}, MNIST's drawn 7s
  {weighed(("MNIST", 7))}, USPS's 7s {weighed(("USPS", 7))} and the scan renders of them {weighed("scans 7")}, and cost
  "not a digit", which the bias moves away from: Omniglot's held-out characters rejected
  {weighed("Omniglot")}. It was chosen on a second draw of the test renders (seed 1), where the 20 digit
  sets' mean error fell from 0.94% to 0.82%. These weights: pendigits 1s {now("pendigits", 1)}, continental
  1s {now("continental", 1)}, MNIST's drawn 7s {now("MNIST", 7)}, USPS's 7s {now("USPS", 7)} (only {usps_7["n"]}, 95% interval
  {usps_7["low"]:.0%}-{usps_7["high"]:.0%}), and the scan renders of them {scans["per_class"][7]["accuracy"]:.1%}."""


INTRO = """# digitdraw model card

A small CNN that reads one handwritten digit in MNIST's form (28x28, white on black, centred by
mass), after `digitdraw.preprocessing` has brought a drawing, a photo or a scan to that form, and
says "not a digit" when what it is given is something else. It is for reading digits that people
draw or photograph in the app, for teaching how such a model is made and measured, and for trying
one's own handwriting; it is not for reading forms, cheques or anything where an error costs more
than a retry.

Training data: MNIST (US), pen strokes of pendigits writers 1-20 and optdigits forms (both by
writers in Istanbul), USPS scans (US), and continental forms made from the pendigits strokes (a 1
with a long flag and a foot, a crossed 7, an open 4, a 9 with a straight or curled tail, a 6 with a
long stem); not digits: Omniglot characters by drawers 1-14 (look-alikes such as Latin o, l, z, s,
b, g, q left out), drawn shapes and doodles, as many scribbles again (tangles, coils, hatching),
and pieces of photos of empty paper. Each is rendered as the app receives it (canvases, tight
crops, photos, scans) and passed through the same preprocessing. Measured here on writers, drawers
and scans never used in training or calibration: pendigits writers 25-30, Omniglot drawers 17-20,
USPS rows 6000+, the MNIST test set and optdigits' .cv file; shapes and scribbles are drawn with
seeds of their own. The .cv file is by the same 30 writers as the .tra file that trains (the files
carry no writer ids), so its row is writer-dependent; the writer-independent checks of continental
handwriting are the continental forms by pendigits writers 25-30, and the 13 other optdigits
writers and other writers from outside the US on whom the project is measured elsewhere.

Intervals are 95% (Wilson). ECE is the expected calibration error over 15 confidence bins, over
the images where a digit was read. "Refused" is the model saying "not a digit" to a digit;
"no digit" is the preprocessing finding none; both count as wrong.

Generated by `python -m training.evaluate` (or `python -m training.report` from
`reports/evaluate.json`); do not edit by hand."""


def pct(x: float) -> str:
    return f"{x:.2%}"


def interval(r: dict[str, float]) -> str:
    return f"{r['low']:.1%}-{r['high']:.1%}"


def print_set(name: str, r: Report) -> None:
    print(f"\n{name}: {r['accuracy']:.2%} of {r['n']} (95% interval {interval(r)}), ECE {r['ece']:.2%}, "
          f"{r['no_digit_found']} no digit found, {r['not_a_digit']} refused as not a digit")
    for tag, g in r["conditions"].items():
        print(f"  {tag:40s} {g['accuracy']:7.2%}  n={g['n']:<5d} 95% interval {interval(g)}")


def print_rejection(name: str, r: Report) -> None:
    print(f"\n{name}: {r['share']:.2%} of {r['n']} rejected (95% interval {interval(r)}); the rest read as {r['read_as']}; "
          f"{r['shown_as_sure']['share']:.2%} shown as a sure digit")


def digit_sets(report: Report) -> dict[str, Report]:
    """Every set of digits: the writer populations and the conditions' sets."""
    return {**report["populations"], **report["sets"]}


def refused_share(r: Report) -> float:
    return r["not_a_digit"] / r["n"]


def lowest_class(r: Report) -> tuple[int, dict[str, float]]:
    return min(enumerate(r["per_class"]), key=lambda item: item[1]["accuracy"])


CONTINENTAL = "continental forms by writers 25-30, drawn and photographed"


def targets(report: Report) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met) for every target the issues set."""
    populations, sets, numbers = report["populations"], report["sets"], report.get("numbers", {})
    rows: list[tuple[str, str, bool]] = []

    def add(target: str, measured: str, met: bool) -> None:
        rows.append((target, measured, met))

    add("MNIST test >= 99.6%", pct(report["mnist_test"]), report["mnist_test"] >= 0.996)
    worst = min(populations.items(), key=lambda item: item[1]["accuracy"])
    add("every writer population >= 98%", f"lowest: {worst[0]} {pct(worst[1]['accuracy'])}", worst[1]["accuracy"] >= 0.98)
    lows = [(name, *lowest_class(r)) for name, r in populations.items()]
    name, digit, row = min(lows, key=lambda item: item[2]["accuracy"])
    add("no class under 96% in any population", f"lowest: {digit}s of {name} {pct(row['accuracy'])}", row["accuracy"] >= 0.96)
    if CONTINENTAL in populations:
        ones, sevens = (populations[CONTINENTAL]["per_class"][d]["accuracy"] for d in (1, 7))
        add("continental 1s and crossed 7s >= 97%", f"1s {pct(ones)}, 7s {pct(sevens)}", min(ones, sevens) >= 0.97)
    for name, r in report["non_digits"].items():
        add(f"not digits rejected >= 90%: {name}", f"{pct(r['share'])} ({interval(r)})", r["share"] >= 0.9)
    if SCRIBBLES in report["non_digits"]:
        sure = report["non_digits"][SCRIBBLES]["shown_as_sure"]
        add("scribbles never shown as a sure digit", f"{round(sure['share'] * sure['n'])} of {sure['n']} ({interval(sure)})",
            sure["share"] == 0)
    worst_refusal = max(digit_sets(report).items(), key=lambda item: refused_share(item[1]))
    add("real digits refused <= 0.5% on every digit set",
        f"highest: {worst_refusal[0]} {pct(refused_share(worst_refusal[1]))}", refused_share(worst_refusal[1]) <= 0.005)
    for name in ("ruled pages turned up to 10 degrees", "notebooks with a margin line"):
        if name in sets:
            add(f"{name} >= 97%", pct(sets[name]["accuracy"]), sets[name]["accuracy"] >= 0.97)
    for name, before in BEFORE.items():
        add(f"{name} at least as good as before ({pct(before)})", pct(sets[name]["accuracy"]), sets[name]["accuracy"] >= before)
    for name, floor in (("drawn digits", 0.98), ("tight drawings", 0.98), ("scans", 0.975)):
        add(f"{name} >= {floor:.1%}", pct(sets[name]["accuracy"]), sets[name]["accuracy"] >= floor)
    for name, floor in (("drawn, ordinary", 0.93), ("drawn, nearly touching", 0.85)):
        if name in numbers:
            add(f"numbers {name}, exact >= {floor:.0%}", pct(numbers[name]["exact"]), numbers[name]["exact"] >= floor)
    worst_ece = max(digit_sets(report).items(), key=lambda item: item[1]["ece"])
    add("ECE under 3% on every set", f"highest: {worst_ece[0]} {pct(worst_ece[1]['ece'])}", worst_ece[1]["ece"] < 0.03)
    blanks = {k: v for k, v in report["rejection"].items() if k in ("canvas", "paper", "noise")}
    add("blank canvases, empty paper and noise rejected >= 95%", ", ".join(f"{k} {pct(v)}" for k, v in blanks.items()),
        min(blanks.values()) >= 0.95)
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _set_row(name: str, r: Report) -> list[str]:
    return [name, str(r["n"]), pct(r["accuracy"]), interval(r), pct(r["ece"]), str(r["no_digit_found"]),
            f"{r['not_a_digit']} ({pct(refused_share(r))})"]


SET_HEADER = ["set", "images", "accuracy", "95% interval", "ECE", "no digit", "refused"]


def populations_section(report: Report) -> list[str]:
    rows = [_set_row(name, r) for name, r in report["populations"].items()]
    per_class = [[name] + [f"{c['accuracy']:.1%}" for c in r["per_class"]] for name, r in report["populations"].items()]
    lows = [[name] + [f"{c['low']:.1%}" for c in r["per_class"]] for name, r in report["populations"].items()]
    return (["## Writer populations", "", "Each population's digits in the media they come in.", ""]
            + _table(SET_HEADER, rows)
            + ["", "Per class (accuracy):", ""] + _table(["population"] + [str(d) for d in range(10)], per_class)
            + ["", "Per class, the lower end of the 95% interval:", ""]
            + _table(["population"] + [str(d) for d in range(10)], lows))


def non_digits_section(report: Report) -> list[str]:
    rows = [[name, str(r["n"]), pct(r["share"]), interval(r),
             ", ".join(f"{d}: {n}" for d, n in sorted(r["read_as"].items(), key=lambda kv: -kv[1]) if n),
             f"{pct(r['shown_as_sure']['share'])} ({interval(r['shown_as_sure'])})"]
            for name, r in report["non_digits"].items()]
    blanks = ", ".join(f"{k} {pct(v)}" for k, v in report["rejection"].items())
    return (["## Not a digit", "", "Things that are not digits, drawn on the pad and photographed: how many get no "
             "digit (refused by the model, or no digit found), what the rest are read as, and how many the app shows as a "
             "digit it is sure of (not as a guess).", ""]
            + _table(["set", "images", "rejected", "95% interval", "the rest read as", "shown as a sure digit"], rows)
            + ["", f"Images with nothing on them rejected: {blanks}.", "",
               "Real digits refused as not a digit: the `refused` column of every digit table.", "",
               "The issue's \"a scribble is never shown as a sure digit\" is measured on the scribbles' own set "
               "(the targets' table). Omniglot characters and shapes shown as a sure digit are counted too, "
               "with no target: a character drawn like a 7 or a 9 is read as one, as a person would. The "
               "picture \"Not digits shown as a sure digit\" below shows each, as the model saw it."])


def sets_section(report: Report) -> list[str]:
    lines = ["## Accuracy by set", "", f"MNIST test, raw 28x28 (10,000 digits, as the network gets them): "
             f"{pct(report['mnist_test'])}.", ""]
    lines += _table(SET_HEADER, [_set_row(name, r) for name, r in report["sets"].items()])
    for name, r in report["sets"].items():
        if r["conditions"]:
            lines += ["", f"{name[0].upper() + name[1:]} by condition:", ""]
            lines += _table(["condition", "images", "accuracy", "95% interval"],
                            [[tag, str(g["n"]), pct(g["accuracy"]), interval(g)] for tag, g in r["conditions"].items()])
    return lines


def number_card(numbers: Report) -> list[str]:
    """The model card's table of whole numbers (training/evaluate_numbers.py)."""
    lines = ["## Whole numbers", "", "Numbers of 2-6 digits by the held-out writers, read by `read_number` (exact match:",
             "every digit right, none missing or extra; digit error rate: edit distance over length; segmentation",
             "errors are counted apart from misread digits; single digits are length 1):", ""]
    rows = [[name, str(r["n"]), pct(r["exact"]), interval(r), " / ".join(f"{g['exact']:.0%}" for g in r["by_length"].values()),
             pct(r["digit_error_rate"]), " / ".join(str(v) for v in r["segmentation_errors"].values())]
            for name, r in numbers.items()]
    return lines + _table(["numbers", "count", "exact match", "95% interval", "by length 1 / 2 / 3 / 4 / 5 / 6",
                           "digit error rate", "merged / split / missed / extra"], rows)


def weak_spots(report: Report) -> list[str]:
    """Every set's conditions, populations' classes and numbers under WEAK_BELOW, worst first."""
    found = [(g["accuracy"], f"{name}: {tag}", g["n"]) for name, r in report["sets"].items()
             for tag, g in r["conditions"].items() if g["n"] >= WEAK_MIN_IMAGES and g["accuracy"] < WEAK_BELOW]
    found += [(r["accuracy"], name, r["n"]) for name, r in digit_sets(report).items() if r["accuracy"] < WEAK_BELOW]
    found += [(c["accuracy"], f"{name}: {d}s", c["n"]) for name, r in report["populations"].items()
              for d, c in enumerate(r["per_class"]) if c["n"] >= WEAK_MIN_IMAGES and c["accuracy"] < WEAK_BELOW]
    found += [(r["exact"], f"numbers {name} (exact match)", r["n"]) for name, r in report.get("numbers", {}).items()
              if r["exact"] < WEAK_BELOW]
    return [f"- {what}: {pct(accuracy)} of {n}" for accuracy, what, n in sorted(found)]


def model_card(report: Report, contract: Contract) -> str:
    """The model card, as Markdown, from an evaluation report and the weights' contract."""
    checks = targets(report)
    lines = [INTRO, "", "## Weights", "",
             f"`weights/digitdraw.safetensors`: `{contract.architecture}`, classes {', '.join(contract.classes)}; trained "
             f"{contract.date} with `{contract.command}` (seed {contract.seed}); temperature {contract.temperature:.3f}; "
             f"an image is refused as not a digit when that class's probability is over {contract.not_a_digit_above:.3f}.",
             "", "## Targets", ""]
    lines += _table(["target", "measured", "met"], [[t, m, "yes" if ok else "**no**"] for t, m, ok in checks])
    unmet = [t for t, _, ok in checks if not ok]
    lines += ["", f"{len(checks) - len(unmet)} of {len(checks)} targets met." + (
        " Not met: " + "; ".join(unmet) + "." if unmet else ""), ""]
    lines += populations_section(report) + [""] + non_digits_section(report) + [""] + sets_section(report)
    if "numbers" in report:
        lines += [""] + number_card(report["numbers"])
    lines += ["", trade_offs(report)]
    lines += ["", "## Weak spots", "", f"Sets, conditions and classes (of {WEAK_MIN_IMAGES} images or more) under "
              f"{WEAK_BELOW:.0%}, worst first:", ""] + (weak_spots(report) or ["- none"])
    lines += ["", "## Pictures", "", "![Accuracy by writer population and class](digitdraw/static/model/populations.png)",
              "", "![Accuracy by test set and condition](digitdraw/static/model/conditions.png)", "",
              "| | |", "| --- | --- |",
              "| ![Confusion matrix](digitdraw/static/model/confusion.png) "
              "| ![Reliability diagram](digitdraw/static/model/reliability.png) |", "",
              "![Not digits shown as a sure digit](digitdraw/static/model/sure_non_digits.png)",
              "", "The app's Model tab shows the same pictures (`python -m training.plots reports/evaluate.json`)."]
    return "\n".join(lines)


def evaluation_parser(description: str) -> argparse.ArgumentParser:
    """The options every evaluation takes: --quick, --seed, --workers, --json."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fifth of each set, for a fast look")
    parser.add_argument("--seed", type=int, default=0, help="seed for the rendered test images")
    parser.add_argument("--workers", type=int, default=2, help="processes that render and read")
    parser.add_argument("--json", type=Path, default=REPORT, help="where to write the report (default: %(default)s)")
    return parser


def write_text(path: Path | None, text: str) -> None:
    """Write `text` (and a newline) to `path`, making its folder; nothing when `path` is None."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def report_json(report: Report) -> str:
    # numpy scalars as numbers: a stray np.int64 must not lose a 25-minute report at its last step
    return json.dumps(report, indent=1, default=lambda x: x.item())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, default=REPORT, help="the evaluation report (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=MODEL_CARD, help="the model card (default: %(default)s)")
    args = parser.parse_args(argv)
    write_text(args.out, model_card(json.loads(args.report.read_text()), read_contract(WEIGHTS_PATH)))


if __name__ == "__main__":
    main()
