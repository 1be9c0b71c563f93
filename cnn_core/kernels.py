"""The kernel (filter) library and the validation of a student's own kernel."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from .errors import InputError

MAX_KERNEL_SIZE = 15

_FIXED: dict[str, list[list[float]]] = {
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
}
RESIZABLE: tuple[str, ...] = ("identity", "box_blur", "gaussian")
KERNELS: tuple[str, ...] = RESIZABLE + tuple(_FIXED)


def _odd_size(name: str, size: int) -> int:
    if isinstance(size, bool) or not float(size).is_integer() or not 1 <= size <= MAX_KERNEL_SIZE or size % 2 == 0:
        raise InputError("err.kernel_size_odd", name=name, size=size, max=MAX_KERNEL_SIZE)
    return int(size)


def gaussian_kernel(size: int = 3, sigma: float = 1.0) -> np.ndarray:
    """A size×size Gaussian exp(-(x²+y²)/2σ²) normalised to sum 1."""
    size = _odd_size("gaussian", size)
    if not (isinstance(sigma, (int, float, np.floating)) and math.isfinite(sigma) and sigma > 0):
        raise InputError("err.sigma", sigma=sigma)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * float(sigma) ** 2))
    kernel = np.outer(g, g)
    return kernel / kernel.sum()


def get_kernel(name: str, size: int = 3, sigma: float = 1.0) -> np.ndarray:
    """The named kernel as a float64 array; `size` applies to identity, box blur and Gaussian."""
    if name not in KERNELS:
        raise InputError("err.unknown_kernel", name=name, names=", ".join(KERNELS))
    if name == "gaussian":
        return gaussian_kernel(size, sigma)
    if name in RESIZABLE:
        size = _odd_size(name, size)
        if name == "box_blur":
            return np.full((size, size), 1.0 / size**2)
        kernel = np.zeros((size, size))
        kernel[size // 2, size // 2] = 1.0
        return kernel
    if size != 3:
        raise InputError("err.kernel_fixed_size", name=name)
    return np.array(_FIXED[name], dtype=np.float64)


def validate_kernel(kernel: object) -> np.ndarray:
    """A custom kernel as float64: any 2-D array of finite numbers from 1×1 to 15×15."""
    try:
        array = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("err.kernel_not_numeric") from None
    if array.ndim != 2:
        raise InputError("err.kernel_not_2d", ndim=array.ndim)
    rows, cols = array.shape
    if not (1 <= rows <= MAX_KERNEL_SIZE and 1 <= cols <= MAX_KERNEL_SIZE):
        raise InputError("err.kernel_shape", rows=rows, cols=cols, max=MAX_KERNEL_SIZE)
    if not np.isfinite(array).all():
        r, c = np.argwhere(~np.isfinite(array))[0]
        raise InputError("err.kernel_not_finite", row=int(r), col=int(c))
    return array


_FRACTION = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*/\s*(\d+(?:[.,]\d+)?)\s*$")


def parse_cell(cell: object, row: int, col: int) -> float:
    """One kernel cell (row and col counted from 0, as the figures do) as a number: numbers, '0.5', '0,5', '1/9'."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or (isinstance(cell, str) and not cell.strip()):
        raise InputError("err.cell_empty", row=row, col=col)
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        value = float(cell)
    else:
        text = str(cell).strip()
        fraction = _FRACTION.match(text)
        try:
            if fraction:
                num, den = (float(part.replace(",", ".")) for part in fraction.groups())
                value = num / den if den else math.inf
            else:
                value = float(text.replace(",", "."))
        except ValueError:
            raise InputError("err.cell_not_number", row=row, col=col, text=text[:20]) from None
    if not math.isfinite(value):
        raise InputError("err.kernel_not_finite", row=row, col=col)
    return value


def parse_kernel(cells: Sequence[Sequence[object]]) -> np.ndarray:
    """A kernel typed cell by cell (numbers or text), validated, with the first bad cell named."""
    rows = [list(row) for row in cells]
    if not rows or not rows[0]:
        raise InputError("err.kernel_shape", rows=len(rows), cols=0, max=MAX_KERNEL_SIZE)
    if len({len(row) for row in rows}) > 1:
        raise InputError("err.kernel_ragged")
    return validate_kernel([[parse_cell(cell, r, c) for c, cell in enumerate(row)] for r, row in enumerate(rows)])


def kernel_text_cells(text: str) -> list[list[str]]:
    """A kernel written as text, one row per line, cells separated by spaces, tabs, semicolons or ', ': its cells."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return [re.split(r"[\s;]+|,\s+", line.strip().strip("[]").strip()) for line in lines]


def parse_kernel_text(text: str) -> np.ndarray:
    """A kernel written as text (see kernel_text_cells), validated."""
    return parse_kernel(kernel_text_cells(text))
