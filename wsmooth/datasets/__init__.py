"""Data: the embedded Purchase-like generator and readers for published formats.

The readers take a local path and never download anything. Text formats are
parsed with numpy's C parser; CIFAR's pickled batches with a restricted
unpickler that builds numpy arrays and plain data only.
"""

from ._cifar import load_cifar10, load_cifar100
from ._location import load_location30
from ._purchase import load_purchase100
from ._synthetic import make_purchase_like
from ._tabular import load_csv, load_npz
from ._texas import load_texas100

__all__ = [
    "load_cifar10",
    "load_cifar100",
    "load_csv",
    "load_location30",
    "load_npz",
    "load_purchase100",
    "load_texas100",
    "make_purchase_like",
]
