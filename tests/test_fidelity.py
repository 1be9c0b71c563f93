"""The statements the pages make, checked against independent oracles: torch, autograd, torchvision, hand computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_core import convolve, get_kernel
from cnn_core.arithmetic import pool_output_size, tf_same_output_size


def test_pool_output_size_with_ceil_mode_is_pytorchs() -> None:
    for m, k, s, p in itertools.product(range(1, 14), range(1, 5), range(1, 5), range(0, 3)):
        if k > m + 2 * p or p > k // 2:
            continue
        x = torch.zeros(1, 1, m, m)
        for ceil in (False, True):
            expected = F.max_pool2d(x, k, s, p, ceil_mode=ceil).shape[-1]
            assert pool_output_size(m, k, s, p, ceil_mode=ceil) == expected, (m, k, s, p, ceil)


def test_ceil_mode_keeps_a_last_partial_window_the_floor_drops() -> None:
    assert (pool_output_size(43, 2, 2), pool_output_size(43, 2, 2, ceil_mode=True)) == (21, 22)
    assert pool_output_size(32, 2, 2, ceil_mode=True) == 16  # nothing left over: the same either way


@pytest.mark.parametrize(("m", "s", "expected"), [(32, 1, 32), (32, 2, 16), (43, 2, 22), (224, 4, 56), (7, 3, 3)])
def test_tensorflow_same_padding_is_the_ceiling_of_m_over_s(m: int, s: int, expected: int) -> None:
    assert tf_same_output_size(m, s) == expected


def test_laplacian_is_zero_on_a_ramp_and_changes_sign_across_an_edge() -> None:
    kernel = get_kernel("laplacian")
    ramp = np.tile(np.arange(0, 200, 10, dtype=np.uint8), (12, 1))  # constant slope: no curvature
    assert np.allclose(convolve(ramp, kernel), 0)
    step = np.zeros((9, 12), dtype=np.uint8)
    step[:, 6:] = 200
    row = convolve(step, kernel)[3]  # columns 5 … 6 of the input are centres 4 … 5 of the output
    assert row[4] * row[5] < 0 and np.allclose(np.delete(row, [4, 5]), 0)


def test_rotating_a_kernel_by_180_degrees_changes_only_the_asymmetric_ones() -> None:
    for name in ("box_blur", "gaussian", "laplacian", "outline", "sharpen"):
        kernel = get_kernel(name, 3)
        assert np.array_equal(np.rot90(kernel, 2), kernel), name
    for name in ("sobel_x", "sobel_y", "prewitt_x", "prewitt_y"):
        kernel = get_kernel(name)
        assert np.array_equal(np.rot90(kernel, 2), -kernel), name
    assert not np.array_equal(np.rot90(get_kernel("emboss"), 2), get_kernel("emboss"))


def test_temperature_gradient_is_p_minus_one_hot_over_t_as_autograd_finds() -> None:
    from cnn_core.softmax import cross_entropy_gradient, softmax

    z, y = np.array([2.0, 1.0, 0.1, -0.7]), 1
    for temperature in (0.5, 1.0, 2.0, 5.0):
        logits = torch.tensor(z, requires_grad=True)
        F.cross_entropy((logits / temperature)[None], torch.tensor([y])).backward()
        stated = (softmax(z, temperature) - np.eye(len(z))[y]) / temperature  # the page's (p_i − 1[i = y]) / T
        np.testing.assert_allclose(stated, logits.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(cross_entropy_gradient(z, y, temperature), logits.grad.numpy(), rtol=1e-12)


def test_label_smoothing_loss_is_pytorchs_and_its_target_is_what_the_page_says() -> None:
    from cnn_core.softmax import smoothed_cross_entropy, smoothed_targets

    z = np.array([0.8, -1.2, 1.1, 3.2, 0.4, 2.5, 0.1, -0.3, -1.5, -0.9])
    for epsilon in (0.0, 0.1, 0.2):
        expected = F.cross_entropy(torch.tensor(z)[None], torch.tensor([3]), label_smoothing=epsilon).item()
        assert smoothed_cross_entropy(z, 3, epsilon) == pytest.approx(expected, rel=1e-12)
    q = smoothed_targets(10, 3, 0.2)
    assert q[3] == pytest.approx(0.82) and np.allclose(np.delete(q, 3), 0.02) and q.sum() == pytest.approx(1)
    # the minimum of the smoothed loss is at p = q: a network trained with ε = 0.2 aims at 82 % for the true class
    assert smoothed_cross_entropy(np.log(q), 3, 0.2) < smoothed_cross_entropy(np.log(q) + np.eye(10)[3], 3, 0.2)


def test_quiz_solutions_are_written_in_the_students_language_and_accepted_either_way() -> None:
    from cnn_core.quiz import answer_text, check_answer, make_quiz, shown_params

    quiz = [q for seed in range(40) for q in make_quiz(seed)]
    large = next(q for q in quiz if q.kind == "fc_params" and q.answer >= 10_000)
    decimal = next(q for q in quiz if q.form == "decimal")
    for lang in ("es", "en"):
        for question in (large, decimal):
            shown = answer_text(question, lang)
            assert check_answer(question, shown), (lang, shown)  # the written answer is itself accepted
    assert "." in answer_text(large, "es") and "," in answer_text(large, "en")
    assert "," in answer_text(decimal, "es") and "." in answer_text(decimal, "en")
    chain = next(q for q in quiz if q.kind == "chain_rule" and q.params["b"] < 0)
    shown = shown_params(chain.explanation_params, "es")
    assert shown["b_term"].startswith("− ") and "." not in shown["b_term"] and "," in shown["a"]
    pool = next(q for q in quiz if q.kind == "pool_shape")
    assert "k" in pool.params and "w" not in pool.params  # the pooling page's k, not w
