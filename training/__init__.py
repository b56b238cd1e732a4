"""Offline only: data readers, synthetic rendering, augmentation, training and evaluation.

    python -m training.train ...      # the shipped weights (the command is in their header)
    python -m training.evaluate       # the model card's numbers

The app never imports this package; the wheel does not ship it.
"""
