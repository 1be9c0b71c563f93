"""Output-size arithmetic of a convolution: the lecture's (m - k + 2p)/s + 1, with the floor it omits."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .errors import InputError


def _as_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if not isinstance(value, bool) and isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError("err.not_integer", name=name, value=value)
    value = int(value)
    if value < minimum:
        raise InputError(f"err.{name}_too_small", value=value, minimum=minimum)
    return value


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """The span d(k-1)+1 that a dilated kernel covers."""
    return dilation * (kernel_size - 1) + 1


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((m + 2p - d(k-1) - 1) / s) + 1, the size `torch.nn.functional.conv2d` produces."""
    m = _as_int(size, "size", 1)
    k = _as_int(kernel_size, "kernel", 1)
    s = _as_int(stride, "stride", 1)
    p = _as_int(padding, "padding", 0)
    d = _as_int(dilation, "dilation", 1)
    span = effective_kernel_size(k, d)
    if span > m + 2 * p:
        raise InputError("err.kernel_too_large", k=span, m=m, p=p, padded=m + 2 * p)
    return (m + 2 * p - span) // s + 1


def pool_output_size(size: int, kernel_size: int, stride: int, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """PyTorch's pooling size: the floor formula, or with `ceil_mode` the ceiling, less one if that window would start in the padding."""
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    if ceil_mode:
        m, s, p = int(size), int(stride), int(padding)
        out = -(-(m + 2 * p - effective_kernel_size(int(kernel_size), int(dilation))) // s) + 1
        if (out - 1) * s >= m + p:  # PyTorch drops a last window that would start past the input
            out -= 1
    return out


def tf_same_output_size(size: int, stride: int) -> int:
    """TensorFlow's padding="SAME" size, ⌈m/s⌉ whatever the kernel (zeros added as needed, more of them at the end)."""
    return -(-_as_int(size, "size", 1) // _as_int(stride, "stride", 1))


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """The padding (k-1)/2 that keeps the size at stride 1; an even kernel has none."""
    k = _as_int(kernel_size, "kernel", 1)
    span = effective_kernel_size(k, _as_int(dilation, "dilation", 1))
    if span % 2 == 0:
        raise InputError("err.same_even", k=span, half=(span - 1) / 2, low=(span - 1) // 2, high=span // 2)
    return (span - 1) // 2


@dataclass(frozen=True)
class SizeSteps:
    """Every step of the output-size formula with one set of numbers, and what the floor drops."""

    m: int
    k: int
    p: int
    s: int
    numerator: int  # m - k + 2p
    quotient: int  # floor(numerator / s)
    remainder: int  # numerator mod s: padded rows/cols after the last window
    output: int
    padded: int  # m + 2p
    unreached: tuple[int, ...]  # input indices (0-based) no window touches: after the last one, or between windows when s > k
    unreached_padding: int  # padding rows/cols no window touches

    @property
    def exact(self) -> bool:
        """Whether s divides m - k + 2p, so that no floor is needed."""
        return self.remainder == 0


def size_steps(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> SizeSteps:
    """The worked output-size computation along one dimension."""
    output = conv_output_size(size, kernel_size, stride, padding, dilation)
    m, p, s = int(size), int(padding), int(stride)
    k = effective_kernel_size(int(kernel_size), int(dilation))
    numerator = m - k + 2 * p
    d = int(dilation)
    taps = np.arange(output)[:, None] * s + np.arange(int(kernel_size))[None, :] * d  # padded coordinates
    touched = np.zeros(m + 2 * p, dtype=bool)
    touched[taps.ravel()] = True
    never = np.flatnonzero(~touched)
    inside = (never >= p) & (never < m + p)
    return SizeSteps(
        m=m, k=k, p=p, s=s, numerator=numerator, quotient=numerator // s, remainder=numerator % s,
        output=output, padded=m + 2 * p, unreached=tuple(int(i) - p for i in never[inside]),
        unreached_padding=int((~inside).sum()),
    )


def conv_transpose_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """(m - 1)s - 2p + d(k-1) + output_padding + 1, the size `torch.nn.functional.conv_transpose2d` produces."""
    m = _as_int(size, "size", 1)
    k = _as_int(kernel_size, "kernel", 1)
    s = _as_int(stride, "stride", 1)
    p = _as_int(padding, "padding", 0)
    d = _as_int(dilation, "dilation", 1)
    op = _as_int(output_padding, "output_padding", 0)
    if op >= s and op >= d:
        raise InputError("err.output_padding_too_large", value=op, s=s, d=d)
    output = (m - 1) * s - 2 * p + effective_kernel_size(k, d) + op
    if output < 1:
        raise InputError("err.transpose_too_small", m=m, k=k, s=s, p=p, d=d, op=op, output=output)
    return output
