"""Argument types shared by the command lines (the book CLI, the sweep, the solver benchmark)."""

from __future__ import annotations

import argparse
import math


def positive(kind: type, name: str):
    """An argparse type: a finite ``kind`` number ``> 0``, refused with the option's name."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a positive {kind.__name__}, got {text!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{name} must be a positive {kind.__name__}, got {text!r}")
        return value

    return parse
