"""The kernel library against hand-written matrices and scipy, and the checks on custom kernels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal.windows import gaussian as scipy_gaussian

from cnn_core import KERNELS, InputError, get_kernel, parse_kernel, parse_kernel_text, validate_kernel

HAND = {
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
}


def test_library_has_the_required_kernels() -> None:
    required = {"identity", "box_blur", "gaussian", "sharpen", "emboss", "outline", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y"}
    assert required <= set(KERNELS)


@pytest.mark.parametrize("name", sorted(HAND))
def test_fixed_kernels(name: str) -> None:
    np.testing.assert_array_equal(get_kernel(name), np.array(HAND[name], dtype=float))


@pytest.mark.parametrize("size", [1, 3, 5, 15])
def test_identity_and_box_blur(size: int) -> None:
    identity = get_kernel("identity", size)
    assert identity.shape == (size, size) and identity.sum() == 1 and identity[size // 2, size // 2] == 1
    box = get_kernel("box_blur", size)
    np.testing.assert_allclose(box, np.full((size, size), 1 / size**2))


@pytest.mark.parametrize(("size", "sigma"), [(3, 1.0), (5, 0.5), (7, 2.0), (15, 4.2), (1, 1.0), (9, 100.0)])
def test_gaussian_matches_scipy(size: int, sigma: float) -> None:
    g = scipy_gaussian(size, sigma)
    expected = np.outer(g, g) / np.outer(g, g).sum()
    kernel = get_kernel("gaussian", size, sigma)
    np.testing.assert_allclose(kernel, expected, rtol=1e-12)
    assert kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel, kernel.T)
    assert kernel.argmax() == (size * size) // 2


@pytest.mark.parametrize(("name", "size", "sigma"), [("gaussian", 4, 1.0), ("gaussian", 3, 0.0), ("gaussian", 3, -1.0),
                                                     ("gaussian", 3, float("nan")), ("box_blur", 17, 1.0), ("identity", 2, 1.0),
                                                     ("sobel_x", 5, 1.0), ("nope", 3, 1.0)])
def test_bad_library_requests(name: str, size: int, sigma: float) -> None:
    with pytest.raises(InputError):
        get_kernel(name, size, sigma)


def test_custom_kernels_any_shape_up_to_15() -> None:
    assert validate_kernel([[2]]).shape == (1, 1)
    assert validate_kernel(np.ones((1, 15))).shape == (1, 15)
    assert validate_kernel(np.ones((15, 15))).dtype == np.float64


@pytest.mark.parametrize(("kernel", "key"), [
    (np.ones((16, 3)), "err.kernel_shape"),
    (np.ones((3,)), "err.kernel_not_2d"),
    (np.ones((2, 2, 2)), "err.kernel_not_2d"),
    ([[1, np.inf], [0, 0]], "err.kernel_not_finite"),
    ([[1, np.nan]], "err.kernel_not_finite"),
    ([["a", 1]], "err.kernel_not_numeric"),
    (np.zeros((0, 3)), "err.kernel_shape"),
])
def test_custom_kernel_errors(kernel: object, key: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_kernel(kernel)
    assert caught.value.key == key


def test_parse_cells_accepts_what_students_type() -> None:
    kernel = parse_kernel([["1/9", "0,5", 2], [" -1 ", "1e-1", "-3/4"]])
    np.testing.assert_allclose(kernel, [[1 / 9, 0.5, 2], [-1, 0.1, -0.75]])


@pytest.mark.parametrize(("cells", "key", "where"), [
    ([["1", ""], ["0", "0"]], "err.cell_empty", (0, 1)),  # 0-based, as the editor and the figures number them
    ([["1", "0"], [None, "0"]], "err.cell_empty", (1, 0)),
    ([["1", "0"], ["0", float("nan")]], "err.cell_empty", (1, 1)),
    ([["1", "x"]], "err.cell_not_number", (0, 1)),
    ([["1/0"]], "err.kernel_not_finite", (0, 0)),
    ([[1.0, np.inf]], "err.kernel_not_finite", (0, 1)),
    ([["1", "2"], ["3"]], "err.kernel_ragged", None),
])
def test_parse_cells_names_the_bad_cell(cells: list, key: str, where: tuple | None) -> None:
    with pytest.raises(InputError) as caught:
        parse_kernel(cells)
    assert caught.value.key == key
    if where:
        assert (caught.value.params["row"], caught.value.params["col"]) == where


def test_parse_text() -> None:
    np.testing.assert_allclose(parse_kernel_text("-1 0 1\n-2; 0; 2\n[-1, 0, 1]\n"), HAND["sobel_x"])
