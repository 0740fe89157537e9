"""Data: the embedded Purchase-like generator and readers for published formats."""

from ._synthetic import make_purchase_like

__all__ = ["make_purchase_like"]
