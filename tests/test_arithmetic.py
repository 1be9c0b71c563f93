"""Output-size arithmetic against torch's own shapes and the lecture's examples."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnn_core import InputError, conv_output_size, same_padding, size_steps


@given(m=st.integers(1, 40), k=st.integers(1, 9), s=st.integers(1, 6), p=st.integers(0, 5), d=st.integers(1, 3))
def test_formula_matches_torch_conv2d(m: int, k: int, s: int, p: int, d: int) -> None:
    x = torch.zeros(1, 1, m, m + 3)
    w = torch.zeros(1, 1, k, k)
    if d * (k - 1) + 1 > m + 2 * p:
        with pytest.raises(RuntimeError):
            F.conv2d(x, w, stride=s, padding=p, dilation=d)
        with pytest.raises(InputError):
            conv_output_size(m, k, s, p, d)
        return
    out = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    assert conv_output_size(m, k, s, p, d) == out.shape[2]
    assert conv_output_size(m + 3, k, s, p, d) == out.shape[3]


@pytest.mark.parametrize(
    ("m", "k", "p", "s", "expected"),
    [
        (32, 5, 0, 1, 28),  # lecture: 32×32 input, 5×5 filter → 28×28
        (32, 5, 2, 1, 32),  # "same" padding keeps 32
        (7, 3, 0, 2, 3),  # (7 - 3)/2 + 1 = 3
        (7, 3, 0, 3, 2),  # (7 - 3)/3 + 1 = 2.33 → floor → 2
        (227, 11, 0, 4, 55),  # AlexNet's first layer
        (5, 5, 0, 1, 1),
    ],
)
def test_hand_computed_examples(m: int, k: int, p: int, s: int, expected: int) -> None:
    assert conv_output_size(m, k, s, p) == expected


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ((5, 7, 1, 0), "err.kernel_too_large"),
        ((5, 3, 0, 0), "err.stride_too_small"),
        ((5, 3, 1, -1), "err.padding_too_small"),
        ((5, 2.5, 1, 0), "err.not_integer"),
        ((0, 1, 1, 0), "err.size_too_small"),
        ((5, "3", 1, 0), "err.not_integer"),
        ((5, True, 1, 0), "err.not_integer"),
    ],
)
def test_invalid_input_is_explained(args: tuple, key: str) -> None:
    with pytest.raises(InputError) as caught:
        conv_output_size(*args)
    assert isinstance(caught.value, ValueError) and caught.value.key == key
    assert caught.value.message("es") != caught.value.message("en")
    assert str(caught.value) == caught.value.message("en")


def test_kernel_too_large_message_names_the_numbers() -> None:
    with pytest.raises(InputError) as caught:
        conv_output_size(5, 9, 1, 1)
    assert "9" in str(caught.value) and "7" in str(caught.value)  # k and m + 2p


@pytest.mark.parametrize("k", [1, 3, 5, 7, 15])
def test_same_padding_keeps_size(k: int) -> None:
    p = same_padding(k)
    assert p == (k - 1) // 2
    assert F.conv2d(torch.zeros(1, 1, 20, 20), torch.zeros(1, 1, k, k), padding=p).shape[-1] == 20


@pytest.mark.parametrize("k", [2, 4, 6])
def test_same_padding_refuses_even_kernels(k: int) -> None:
    with pytest.raises(InputError) as caught:
        same_padding(k)
    assert caught.value.key == "err.same_even"
    for p in (k // 2 - 1, k // 2):  # neither neighbour keeps the size
        assert conv_output_size(20, k, 1, p) != 20


def test_same_padding_with_dilation() -> None:
    assert same_padding(3, dilation=2) == 2


@given(m=st.integers(1, 30), k=st.integers(1, 7), s=st.integers(1, 6), p=st.integers(0, 4))
def test_size_steps_unreached_matches_brute_force(m: int, k: int, s: int, p: int) -> None:
    if k > m + 2 * p:
        return
    steps = size_steps(m, k, s, p)
    covered = {start + i for start in range(0, m + 2 * p - k + 1, s) for i in range(k)}  # plain loops as the oracle
    never = [i for i in range(m + 2 * p) if i not in covered]
    assert steps.output == len(range(0, m + 2 * p - k + 1, s))
    assert list(steps.unreached) == [i - p for i in never if p <= i < m + p]
    assert steps.unreached_padding == len([i for i in never if not p <= i < m + p])
    assert steps.numerator == m - k + 2 * p
    assert steps.quotient * s + steps.remainder == steps.numerator
    assert steps.exact == (steps.remainder == 0)


def test_size_steps_with_dilation_skips_between_taps() -> None:
    steps = size_steps(5, 2, stride=3, padding=0, dilation=3)  # taps at 0 and 3 only
    assert steps.output == 1 and steps.unreached == (1, 2, 4)


def test_size_steps_lecture_floor_example() -> None:
    steps = size_steps(7, 3, stride=3)
    assert (steps.numerator, steps.quotient, steps.remainder, steps.output) == (4, 1, 1, 2)
    assert steps.unreached == (6,)  # the last column is never reached
