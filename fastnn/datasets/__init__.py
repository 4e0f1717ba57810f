"""Data sets for trying fastnn, and the IDX reader of the MNIST family."""

from ._idx import read_idx

__all__ = ["read_idx"]
