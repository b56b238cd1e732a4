"""Find the ink in a gray image: the paper (or board, or canvas) estimated and removed, the
polarity found, and each pixel's ink strength in [0, 1] against the paper's own texture.

    ink = extract_ink(gray)      # InkMap: .ink, .dark_ink, .flat

Raises NoDigitError when nothing stands out from the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import NoDigitError
from .loading import block_mean
from .masks import bounding_box, box_size

# The paper is read off the image's border: a ring 3% of the long side wide (at least 1 px).
# Paper surrounds the digit, so even a digit cropped to its ink leaves most of the ring paper.
RING_SHARE = 0.03
# A canvas is a flat background: at least half of the ring ...
FLAT_SHARE = 0.5
# ... at its median's 8-bit value. A photo's paper, even shrunk to the working size, varies by a
# level or two (its noise: 1.2-1.8 levels on the evaluation's photos): within 1%, a quarter of the
# photos passed for canvases, and a shadow across them was read as ink.
FLAT_TOLERANCE = 0.5 / 255
# Paper even within 1% over half the ring (a scan; a photo with no shadow across its border) may
# carry a marker digit with strokes wider than the background's window: the window grows as for a
# digit that fills the frame (see STROKE_WINDOW; without, 39 of the evaluation's 6,455 scans lost
# strokes) ...
EVEN_TOLERANCE = 0.01
# ... if the Otsu split's dark side leaves the ring clear (under 5% of it): a shadow's reaches it.
EVEN_CLEAR = 0.05
# Less than this between the darkest and brightest pixel is a blank image (JPEG noise is ~0.02).
MIN_CONTRAST = 0.06
# Polarity is voted on a thumbnail this size. At 48 px, thin photo strokes drowned under shadow
# edges (3.5% of photos got the wrong polarity); at 96 px none did, and it costs 0.3 ms.
POLARITY_SIZE = 96
# Local contrast: each pixel against the median of a window a third of the thumbnail wide ...
LOCAL_WINDOW = 1 / 3
# ... and only differences over 4 noise sigmas ...
LOCAL_SIGMAS = 4
# ... and over 4% of full scale count (a clean canvas has no noise to measure).
LOCAL_MIN = 0.04
# The ring's brightness is placed between the 0.5th and 99.5th percentiles of the image (the
# 2nd was shadowed paper, not ink, where a thin digit covers under 2% of a photo).
EXTREME_PERCENTILE = 0.5
# A clean ring (its spread under 16% of the image's range: no shadow across the border) ...
RING_CLEAN = 0.16
# ... that votes firmly (over 0.5 of the way to one end) decides alone: in a crop a fat digit
# fills, the neighbourhood is ink and local contrast is confidently wrong. Both chosen on training
# writers' and scans' crops and photos (3 errors in 2,500; the plain sum made 4% errors on scans
# cropped to their ink).
RING_SURE = 0.5
# Background window, as a share of the image's long side: wider than any pen stroke in a photo,
# and narrow enough to follow shadows (a wider one fills a shadowed corner with lit paper).
BACKGROUND_WINDOW = 0.15
# A digit that fills the frame (its clear ink spans 80% of the width or height), or one on even
# paper (EVEN_TOLERANCE) ...
FILL_SHARE = 0.8
# ("clear" ink: over half strength, the strokes' cores rather than their blurred rims)
CLEAR_INK = 0.5
# ... or one whose widest parts the window took for paper: its clear strokes are nearly half the
# window wide (45%: those of scans cropped to a marker digit are 50-90%, most photos' under 45%)
# and the Otsu split's dark side, which keeps the lost parts, spans the frame but covers under 15%
# of the border (a marker digit a little short of filling the frame: under 7%; the shadows this
# misread on photos, 20% or more). Not on a sheet on a desk, whose writing is thin
# (sheet.SHEET_STROKE): there the wider window read a small note's shading as ink. Without, a
# fat 6 lost its loop and read as a 1: 20 of the USPS population's 1,291 scans were misread, 9
# with it ...
WIDE_STROKE = 0.45
SHADOW_RING = 0.15
# ... or one whose strokes the window took nearly whole, so that no clear ink is left to be wide:
# under a tenth of the Otsu split's strokes is clear ink (a fat light 0 filling a scan: 2%, its
# noise; scans and optdigits forms of fat digits: 3-5%). Photos whose shading the Otsu split takes
# for strokes keep 13% or more: growing the window for those too read 4 of the evaluation's photos
# worse (a ruled page, a continental digit, two numbers).
KEPT_CLEAR = 0.1
# ... or one that stayed in the paper whole: a blot of dark ink wider than the window keeps its
# sharp edge there (EDGE_STEP); a shadow's is soft. Photographed hatching as dense as one blot was
# read as its hollow outline, a sure 5 or 1 (2 of the evaluation's 2,000 scribbles); 9 of its fat
# digits read right with it, none worse, and a fat 1 cropped tight, all blot, is found (72 of 117
# such bars were "No digit found"). Not for light ink: a page on a dark desk, missed as a sheet, is
# such a blot (2 of 500 desk photos refused). Only with nothing written beside the blot: no clear
# ink off it spans a tenth of the image (digits beside a dark object: 19 of 60 read as the object).
BESIDE_BLOT = 0.1
# ... can have strokes wider than that window: it then grows to 2.5 times the widest stroke of the
# Otsu-split image ...
STROKE_WINDOW = 2.5
# ... up to 60% of it. Such crops have little room for shadows.
MAX_WINDOW = 0.6
# The paper's level and texture are read from pixels on the paper side of an Otsu split that lie
# at least 2 px (on the half-resolution sample) from the ink side: a blurred stroke's rim is neither.
PAPER_CLEARANCE = 2
# With fewer than 16 of them (a scan cropped to a fat stroke), the texture is read from the ink's
# own solid interior instead; with neither (noise), from the whole image.
MIN_PAPER_PIXELS = 16
# Ink must stand 4 noise sigmas above the paper ...
CANDIDATE_SIGMAS = 4
# ... and 5% of full scale, for clean canvases that have no noise.
CANDIDATE_MIN = 0.05
# The ink's strength is its 90th percentile: the strokes' cores, not their rims.
PEAK_PERCENTILE = 90
# It must reach 12% of full scale ...
PEAK_MIN = 0.12
# ... and 6 noise sigmas, or the image is blank, too faint or only noise (both chosen on
# empty-paper photos and noise images).
PEAK_SIGMAS = 6
# For dark ink that threshold scales with the paper's brightness under 70% (well-lit paper is
# brighter): a photo taken in dim light, paper and ink alike darker, needs less contrast ...
PAPER_REFERENCE = 0.7
# ... down to half of it. On photos in dim light this lifted accuracy from 91% to 98% (pencil: 65%
# to 90%), and cost 1-4 points of empty-paper rejection; dimmer paper than 35% is too noisy to go further.
DIMMEST_PAPER = 0.35
# An edge: the log of the brightness steps by 0.2 across 2 thumbnail pixels. A shadow's soft edge
# steps by 0.06 at most, a sheet's edge on a desk by 0.29 or more (sheet.SHEET_CONTRAST), and the
# paper found under the evaluation's two blots of hatching (see KEPT_CLEAR) by 0.25 and 1.0 ...
EDGE_STEP = 0.2
# ... the log of the brightness plus 0.3, so that noise and the soft halo of a light shape are no
# edges in the dark, where the log alone steps steeply (0.1 reads the same desk photos; with 1/255,
# before sheet.SURFACE_BLACK, 13 fat light MNIST crops passed for sheets).
EDGE_FLOOR = 0.3
# Ink below 3 noise sigmas ...
FLOOR_SIGMAS = 3
# ... or a quarter of the peak is paper: keeps faint pencil, drops grain.
FLOOR_SHARE = 0.25


@dataclass
class InkMap:
    """Ink strength per pixel in [0, 1], and what was found about the image on the way."""

    ink: np.ndarray
    dark_ink: bool  # False: light ink on a dark background (chalk, a white-on-black image)
    flat: bool  # a flat background (a canvas) rather than paper with texture and shading


def noise_level(values: np.ndarray) -> float:
    """Robust standard deviation (median absolute deviation) of the values."""
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))  # MAD to sigma for Gaussian noise


def ring(image: np.ndarray) -> np.ndarray:
    """The pixels of a border RING_SHARE of the long side wide."""
    k = max(1, int(round(RING_SHARE * max(image.shape))))
    inner = np.ones(image.shape, bool)
    inner[k:-k, k:-k] = False
    return image[inner]


def otsu(values: np.ndarray, bins: int = 64) -> float:
    """The threshold that best splits the values into two classes (Otsu, 1979)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return high
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    share = counts / counts.sum()
    centres = (edges[:-1] + edges[1:]) / 2
    below, mass = np.cumsum(share), np.cumsum(share * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass[-1] * below - mass) ** 2 / (below * (1 - below))
    return float(edges[int(np.nanargmax(between[:-1])) + 1])


def thumbnail(gray: np.ndarray) -> np.ndarray:
    """The image shrunk by block means to about POLARITY_SIZE a side."""
    return block_mean(gray, -(-max(gray.shape) // POLARITY_SIZE))


def edge_step(thumb: np.ndarray) -> np.ndarray:
    """How steeply the log of the brightness (EDGE_FLOOR) changes at each pixel, across 2 pixels."""
    log = np.log(thumb + EDGE_FLOOR)
    step = np.zeros_like(log)
    step[1:-1] = np.abs(log[2:] - log[:-2])
    step[:, 1:-1] = np.maximum(step[:, 1:-1], np.abs(log[:, 2:] - log[:, :-2]))
    return step


def _neighbourhood_median(thumb: np.ndarray) -> np.ndarray:
    """Each pixel's neighbourhood median (LOCAL_WINDOW wide), computed at half resolution.

    The median is smooth, and a median filter's cost grows with its window's area: at full
    resolution it took 40 ms of a photo's 55.
    """
    half = block_mean(thumb, 2)
    window = max(3, int(LOCAL_WINDOW * max(half.shape))) | 1
    smooth = np.repeat(np.repeat(ndimage.median_filter(half, size=window, mode="nearest"), 2, 0), 2, 1)
    return np.pad(smooth, [(0, max(0, a - b)) for a, b in zip(thumb.shape, smooth.shape)], mode="edge")[
        : thumb.shape[0], : thumb.shape[1]]


def ink_is_dark(thumb: np.ndarray) -> bool:
    """Vote on the polarity with two cues that fail in different places.

    - The ring: the border is paper, so paper is bright if the ring sits near the bright end.
      Right on tight crops; shading across a photo's border can fool it.
    - Local contrast: strokes stand out from their neighbourhood. Right on photos; a digit that
      fills the frame leaves it no neighbourhood of paper.
    Each gives a vote in [-1, 1] (positive: dark ink). A clean, firm ring decides alone
    (RING_CLEAN); otherwise the sum decides.
    """
    border = ring(thumb)
    level = float(np.median(border))
    low, high = np.percentile(thumb, (EXTREME_PERCENTILE, 100 - EXTREME_PERCENTILE))
    span = max(float(high - low), 1e-6)
    ring_vote = ((level - low) - (high - level)) / span
    if noise_level(border) < RING_CLEAN * span and abs(ring_vote) > RING_SURE:
        return ring_vote > 0
    diff = thumb - _neighbourhood_median(thumb)
    cut = max(LOCAL_SIGMAS * noise_level(diff[::2, ::2]), LOCAL_MIN)
    darker, lighter = np.clip(-diff - cut, 0, None).sum(), np.clip(diff - cut, 0, None).sum()
    local_vote = (darker - lighter) / max(float(darker + lighter), 1e-6)
    return bool(ring_vote + local_vote >= 0)


def _closing(gray: np.ndarray, window: int, dark_ink: bool) -> np.ndarray:
    """A grey closing (opening for light ink): the paper, with every stroke narrower than `window` gone."""
    first, second = (ndimage.maximum_filter, ndimage.minimum_filter) if dark_ink else \
        (ndimage.minimum_filter, ndimage.maximum_filter)
    return second(first(gray, size=window, mode="reflect"), size=window, mode="reflect")


def _spans_frame(mask: np.ndarray) -> bool:
    """Whether the mask's marks span FILL_SHARE of the width or the height."""
    box = bounding_box(mask)
    return box is not None and (box[0].stop - box[0].start >= FILL_SHARE * mask.shape[0]
                                or box[1].stop - box[1].start >= FILL_SHARE * mask.shape[1])


def _kept_blot(paper: np.ndarray, strokes: np.ndarray) -> bool:
    """Whether the paper kept a blot of ink whole: a sharp edge (EDGE_STEP), strokes off the border."""
    return float(ring(strokes).mean()) < SHADOW_RING and float(edge_step(thumbnail(paper)).max()) > EDGE_STEP


def _beside_blot(clear: np.ndarray, strokes: np.ndarray, window: float) -> bool:
    """Whether clear ink as large as a digit (BESIDE_BLOT) lies off the blot: the Otsu split's
    strokes nearly as wide as the window (WIDE_STROKE; `window` in thumbnail pixels)."""
    labels, _ = ndimage.label(strokes)
    blot = np.isin(labels, np.unique(labels[2 * ndimage.distance_transform_edt(strokes) >= WIDE_STROKE * window]))
    # any clear pixel marks its block: a thin stroke's mean is faint
    beside, _ = ndimage.label((thumbnail(clear.astype(np.float32)) > 0) & ~ndimage.binary_dilation(blot & strokes))
    return max((max(box_size(box)) for box in ndimage.find_objects(beside)), default=0) >= BESIDE_BLOT * max(strokes.shape)


def _lost_wide_strokes(clear: np.ndarray, strokes: np.ndarray, window: int) -> bool:
    """Whether the background window was narrower than the digit's widest parts: the clear ink it
    left is nearly half its width (WIDE_STROKE), or it left next to none (KEPT_CLEAR)."""
    if not _spans_frame(strokes) or float(ring(strokes).mean()) >= SHADOW_RING:
        return False  # the cheap checks first: a distance transform of the ink costs about 1 ms
    if 2 * float(ndimage.distance_transform_edt(clear).max()) >= WIDE_STROKE * window:
        return True
    return float(thumbnail(clear.astype(np.float32))[strokes].mean()) < KEPT_CLEAR


def _stroke_window(strokes: np.ndarray, scale: float) -> int:
    """STROKE_WINDOW times the widest of the Otsu-split thumbnail's strokes, in working pixels."""
    widest = 2 * float(ndimage.distance_transform_edt(strokes).max()) * scale
    return int(min(STROKE_WINDOW * widest, MAX_WINDOW * max(strokes.shape) * scale)) | 1


def _strength(ink: np.ndarray, peak_min: float) -> np.ndarray:
    """Raw ink (paper subtracted, up to an offset) in [0, 1], against the paper's own texture.

    Raises NoDigitError when nothing stands out from the paper.
    """
    sample = ink[::2, ::2]
    paper_side = sample < otsu(sample)
    paper = sample[ndimage.distance_transform_edt(paper_side) > PAPER_CLEARANCE]
    solid = sample[ndimage.distance_transform_edt(~paper_side) > PAPER_CLEARANCE]
    if paper.size >= MIN_PAPER_PIXELS:
        ink = ink - np.median(paper)
        noise = noise_level(paper)
    else:
        noise = noise_level(solid if solid.size >= MIN_PAPER_PIXELS else sample)
    return _scaled(ink, noise, peak_min)


def _scaled(ink: np.ndarray, noise: float, peak_min: float) -> np.ndarray:
    """Ink over the paper's noise, scaled so that its typical strength (PEAK_PERCENTILE) is 1."""
    candidates = ink[ink > max(CANDIDATE_SIGMAS * noise, CANDIDATE_MIN)]
    if candidates.size < 4:
        raise NoDigitError("No digit found — the image is blank or too faint.")
    peak = float(np.percentile(candidates, PEAK_PERCENTILE))
    if peak < peak_min or peak < PEAK_SIGMAS * noise:
        raise NoDigitError("No digit found — nothing stands out from the background (blank, too faint, or only noise).")
    floor = max(FLOOR_SIGMAS * noise, FLOOR_SHARE * peak)
    return np.clip((ink - floor) / (peak - floor), 0, 1).astype(np.float32)


def _peak_min(paper_brightness: float, dark_ink: bool) -> float:
    """PEAK_MIN for dark ink on paper this bright: dim light darkens ink and paper alike."""
    if not dark_ink:  # light ink: the "paper" is a board or a screen, whose level says nothing of the light
        return PEAK_MIN
    return PEAK_MIN * min(1.0, max(paper_brightness, DIMMEST_PAPER) / PAPER_REFERENCE)


def extract_ink(gray: np.ndarray, on_sheet: bool = False) -> InkMap:
    """Ink strength in [0, 1] per pixel, whatever the polarity and lighting of the image.

    A canvas's paper is one value, the ring's median, and the ink is whatever differs from it.
    Otherwise the paper is a grey closing (opening for light ink): it removes every dark feature
    narrower than its window (BACKGROUND_WINDOW; wider when the digit fills the frame, lies on even
    paper or lost its widest parts to it, see FILL_SHARE), which strokes are, and follows everything
    broader, shadows included. `on_sheet`: the gray is a sheet cut from a desk photo (sheet.py).

    Raises NoDigitError when nothing stands out from the background.
    """
    if float(gray.max() - gray.min()) < MIN_CONTRAST:
        raise NoDigitError("No digit found — the image is blank.", blank=True)
    border = ring(gray)
    level = float(np.median(border))
    off_level = np.abs(border - level)
    if np.mean(off_level < FLAT_TOLERANCE) > FLAT_SHARE:
        # The ink is dark when it outweighs what is lighter than the paper: when the canvas is, on
        # average, darker than its paper.
        dark_ink = float(gray.mean(dtype=np.float64)) <= level
        return InkMap(_scaled(level - gray if dark_ink else gray - level, 0.0, _peak_min(level, dark_ink)), dark_ink, True)
    thumb = thumbnail(gray)
    # A sheet is the light region of its photo, so what is written on it is dark. The vote, cast on
    # a faint pencil digit under a shadow across the sheet, took the lit part for light ink, and
    # the digit was read whole with the desk: 1 of the evaluation's 500 desk photos refused.
    dark_ink = on_sheet or ink_is_dark(thumb)
    sign = 1 if dark_ink else -1
    window = max(3, int(BACKGROUND_WINDOW * max(gray.shape))) | 1
    paper = _closing(gray, window, dark_ink)
    peak_min = _peak_min(float(np.median(paper[::4, ::4])), dark_ink)
    strokes = thumb < otsu(thumb) if dark_ink else thumb > otsu(thumb)
    scale = gray.shape[0] / thumb.shape[0]
    try:
        ink, nothing = _strength(sign * (paper - gray), peak_min), None
    except NoDigitError as error:  # a blot the paper kept whole may be all the ink there is
        ink, nothing = np.zeros_like(gray), error
    if (not on_sheet and dark_ink and _kept_blot(paper, strokes)
            and not _beside_blot(ink > CLEAR_INK, strokes, window / scale)):
        wider = _stroke_window(strokes, scale)
        if wider > window:
            window, paper, nothing = wider, _closing(gray, wider, dark_ink), None
            ink = _strength(sign * (paper - gray), peak_min)
    if nothing is not None:
        raise nothing
    even = np.mean(off_level < EVEN_TOLERANCE) > FLAT_SHARE and ring(strokes).mean() < EVEN_CLEAR
    clear = ink > CLEAR_INK
    if _spans_frame(clear) or even or (not on_sheet and _lost_wide_strokes(clear, strokes, window)):
        wider = _stroke_window(strokes, scale)
        if wider > window:
            ink = _strength(sign * (_closing(gray, wider, dark_ink) - gray), peak_min)
    return InkMap(ink, dark_ink, False)
