"""The two ways an image can fail to give a digit. Both are ValueErrors; the app shows their text."""

from __future__ import annotations


class NoDigitError(ValueError):
    """The image holds no digit: blank, uniform, too faint, only tiny specks, or not a digit at all.

    `blank` is True when the image has no marks at all (an empty canvas, a uniform image).
    """

    def __init__(self, message: str, blank: bool = False) -> None:
        super().__init__(message)
        self.blank = blank


class InvalidImageError(ValueError):
    """The input is not an image digitdraw can read (corrupt file, wrong type, too large)."""


class NotADigitError(NoDigitError):
    """The image holds marks, but the model reads them as something other than a digit (a doodle,
    a line, a letter, a scribble)."""
