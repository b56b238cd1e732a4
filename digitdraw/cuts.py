"""Cut groups of ink that hold digits that touch, where the classifier is surer of two digits than
of one. The classifier is a scoring function; nothing here knows torch.

    readings = cut_touching(ink, groups, classify, reject_above)   # one Reading per group, left to right

`classify` takes (N, 28, 28) digits and gives (N, 11) probabilities: the ten digits, then "not a
digit" (over `reject_above`, a group is not a digit). Every group and every candidate part is read
once, in one batch per round of cuts (and the halves of those still wider than tall in one more,
to look ahead: a half is read again in the next round if its part is cut); the answer reuses those
readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import segmentation
from .masks import bounding_box, box_size
from .mnist_form import DigitSteps, digit_steps

Classify = Callable[[np.ndarray], np.ndarray]

# A group is cut in two when its parts, each read on its own, are about as sure as the whole or
# surer, the wider it is the more so. Sureness is -log(1 - top probability); the less sure
# part's must beat the whole's less 2 per unit of width over height above 0.6 ...
CUT_FROM_ASPECT = 0.6
CUT_SLOPE = 2.0
# ... and both parts must be read at 95% or more (an unsure digit otherwise falls apart into
# unsure pieces). Chosen on 180 numbers of 1-6 digits by the training writers: against the first
# fit (slope 3, parts at 90%), exact match went from 95% to 98% with ordinary spacing, from 88% to
# 90% nearly touching and from 58% to 57% with the digits' ink overlapping (with the shipped
# weights: 93% to 95%, 87% to 88%, and 58% both).
CUT_PARTS_SURE = 0.95
# A part of a cut is looked at again only if it is still wider than tall (three digits touching):
# otherwise a 7 or an 8 gets cut into slivers, which read as confident 1s.
RECUT_ASPECT = 1.0
# Cuts are looked for at most 5 times (six digits in one group).
MAX_CUT_ROUNDS = 5
# A group 1.8 times as wide as it is tall is always cut, at the cut whose parts read surest: 1
# in 1000 of the training writers' digits is even 1.64 times as wide (at 1.5, 3 in 1000 were cut).
MUST_CUT_ASPECT = 1.8
# A cut's parts are not even read when the group is no wider than tall and read so surely that
# both parts would need a sureness over 7 (each at 99.9%). On 1,518 wide groups in the training
# writers' numbers, drawn and photographed, no such cut was kept, and half the groups were spared
# reading 2-8 parts. Wider groups are always tried: two 8s that touch can read as one 8 at 99.9996%
# (seen in the held-out numbers, where a bar of 8 for all groups lost 2 of 1,200).
CUT_HOPELESS = 7.0
# Doubt (1 - top probability) is clipped here: a probability of exactly 1 would make sureness infinite.
MIN_DOUBT = 1e-6

PARTS_SURE = -np.log(1 - CUT_PARTS_SURE)
# The classifier's first ten classes are the digits; the eleventh is "not a digit".
DIGIT_COUNT = 10


def digit_probabilities(row: np.ndarray) -> np.ndarray:
    """(10,) of an (11,) row: the digits' probabilities given that it is a digit."""
    digits = row[:DIGIT_COUNT]
    return digits / max(float(digits.sum()), MIN_DOUBT)


@dataclass(eq=False)  # compared by identity: two readings of equal masks are still two candidates
class Reading:
    """One digit candidate: the MNIST recipe's steps from its mask, and its probabilities."""

    steps: DigitSteps
    probabilities: np.ndarray  # (11,): the ten digits, then "not a digit"
    from_cut: bool = False  # a part of a cut group

    @property
    def mask(self) -> np.ndarray:
        return self.steps.mask

    @property
    def not_a_digit(self) -> float:
        return float(self.probabilities[DIGIT_COUNT])

    @property
    def digit_probabilities(self) -> np.ndarray:
        return digit_probabilities(self.probabilities)

    @property
    def sureness(self) -> float:
        """-log(1 - the top digit's probability): a part that is not a digit is not a sure digit."""
        return float(-np.log(np.clip(1 - self.probabilities[:DIGIT_COUNT].max(), MIN_DOUBT, 1)))

    @property
    def aspect(self) -> float:
        height, width = box_size(bounding_box(self.mask))
        return width / height


def read(ink: np.ndarray, masks: list[np.ndarray], classify: Classify, from_cut: bool = False) -> list[Reading]:
    """The masks through the recipe and the classifier, in one batch."""
    if not masks:
        return []
    steps = [digit_steps(ink, mask) for mask in masks]
    rows = classify(np.stack([s.result for s in steps]))
    return [Reading(step, row, from_cut) for step, row in zip(steps, rows)]


def _bar(group: Reading, reject_above: float) -> float:
    """How sure both parts of a cut must be for the cut to be kept. A very wide group is always cut,
    unless it is not a digit (a line, a word): then its parts must read as surely as any cut's."""
    if group.aspect > MUST_CUT_ASPECT and group.not_a_digit <= reject_above:
        return -np.inf
    return max(group.sureness - CUT_SLOPE * (group.aspect - CUT_FROM_ASPECT), PARTS_SURE)


def _worth_trying(group: Reading, reject_above: float) -> bool:
    """Groups wider than tall always; narrower wide ones on their first look, where a cut can clear the bar."""
    if not segmentation.is_wide(group.mask):
        return False
    return group.aspect > RECUT_ASPECT or (not group.from_cut and _bar(group, reject_above) < CUT_HOPELESS)


def _looking_ahead(ink: np.ndarray, parts: list[Reading], classify: Classify) -> dict[Reading, float]:
    """Each part's sureness; for a part wider than tall (digits that still touch, to be cut again in
    the next round), the better of that and its best cut's less sure part. Three touching digits cut
    1 | 2 are judged by the 2 as two digits: read as one, it is not a digit, and no cut was kept
    (held-out numbers whose digits' ink touches, every other one: 28 -> 63 of 150 drawn and 30 -> 66
    photographed read exactly; those nearly touching 284 -> 286 of 300, with ordinary spacing the
    same; of 1,200 shapes and scribbles drawn and photographed, the same 31 read as digits)."""
    sureness = {part: part.sureness for part in parts}
    wide = {part: segmentation.split_candidates(part.mask) for part in parts if part.aspect > RECUT_ASPECT}
    halves = iter(read(ink, [half for cuts in wide.values() for pair in cuts for half in pair], classify, from_cut=True))
    for part, cuts in wide.items():
        for _ in cuts:
            sureness[part] = max(sureness[part], min(next(halves).sureness, next(halves).sureness))
    return sureness


def cut_touching(ink: np.ndarray, groups: list[np.ndarray], classify: Classify, reject_above: float,
                 rounds: int = MAX_CUT_ROUNDS) -> list[Reading]:
    """Read the groups, cutting the wide ones where the classifier is surer of two digits than of one
    (for at most `rounds` rounds of cuts: 0 reads the groups as they are)."""
    readings = read(ink, groups, classify)
    for _ in range(rounds):
        options = {group: segmentation.split_candidates(group.mask) for group in readings
                   if _worth_trying(group, reject_above)}
        options = {group: cuts for group, cuts in options.items() if cuts}
        candidates = read(ink, [part for cuts in options.values() for pair in cuts for part in pair], classify,
                          from_cut=True)
        sureness = _looking_ahead(ink, candidates, classify)
        parts = iter(candidates)
        chosen = {}
        for group, cuts in options.items():
            pairs = [(next(parts), next(parts)) for _ in cuts]
            best = max(pairs, key=lambda pair: min(sureness[pair[0]], sureness[pair[1]]))
            if min(sureness[best[0]], sureness[best[1]]) > _bar(group, reject_above):
                chosen[group] = best
        if not chosen:
            break
        readings = [part for group in readings for part in chosen.get(group, (group,))]
    return readings
