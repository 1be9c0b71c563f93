"""Noise and the Gaussian filter: add noise to an image, smooth it, and measure with the PSNR how much was recovered."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import get_kernel, same_padding
from cnn_core.images import SAMPLES
from cnn_core.kernels import MAX_KERNEL_SIZE
from cnn_core.noise import NOISES, add_noise, gaussian_smooth, median_filter, mse, psnr, psnr_after_smoothing
from ui import Setting, image_picker, labels, latex_number, matrix_figure, num, pct, plot, share_in_url, t, working_image
from ui.caching import BY_CONTENT
from ui.common import current_language

WORKING_SIDE = 256
SIZES = tuple(range(3, MAX_KERNEL_SIZE + 1, 2))
SIGMAS = tuple(round(0.2 * i, 1) for i in range(1, 26))  # 0.2 … 5.0, the slider's range


def _db(value: float) -> str:
    """A PSNR as text: ∞ for identical images."""
    return "∞ dB" if math.isinf(value) else f"{num(value, decimals=2)} dB"


def _signed_db(change: float) -> str:
    """A PSNR change with its sign, for a metric's delta."""
    # An ASCII minus: Streamlit colours a delta red and points its arrow down only when the text starts with "-"
    return ("+" if change >= 0 else "") + f"{num(change, decimals=2)} dB".replace("\u2212", "-")


def _psnr_latex(error: float, value: float, label: str) -> str:
    """The PSNR formula with this image's numbers."""
    if error == 0:
        return rf"\text{{{label}}}:\quad \mathrm{{MSE}} = 0 \;\Rightarrow\; \mathrm{{PSNR}} = \infty"
    return (rf"\text{{{label}}}:\quad \mathrm{{PSNR}} = 10 \log_{{10}} \frac{{255^2}}{{\mathrm{{MSE}}}} = "
            rf"10 \log_{{10}} \frac{{{latex_number(65025)}}}{{{latex_number(round(error, 2))}}} = {latex_number(round(value, 2))}\ \mathrm{{dB}}")


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=BY_CONTENT)
def _sigma_curve(reference: np.ndarray, noisy: np.ndarray, size: int) -> np.ndarray:
    return psnr_after_smoothing(reference, noisy, [size], list(SIGMAS))[0]


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=BY_CONTENT)
def _size_curve(reference: np.ndarray, noisy: np.ndarray, sigma: float) -> np.ndarray:
    return psnr_after_smoothing(reference, noisy, list(SIZES), [sigma])[:, 0]


def _curve_figure(x: tuple, values: np.ndarray, chosen: float, noisy_psnr: float, title: str, x_title: str) -> go.Figure:
    """PSNR after smoothing against one filter setting, with the unfiltered level and the current choice marked."""
    fig = go.Figure(go.Scatter(x=list(x), y=values, mode="lines+markers", name=t("nz.curve_smoothed"),
                               hovertemplate="%{x}: %{y:.2f} dB<extra></extra>"))
    if math.isfinite(noisy_psnr):
        fig.add_hline(y=noisy_psnr, line_dash="dash", line_color="#888",
                      annotation_text=t("nz.curve_noisy", psnr=_db(noisy_psnr)), annotation_position="bottom right")
    best = int(np.argmax(values))
    fig.add_trace(go.Scatter(x=[x[best]], y=[values[best]], mode="markers", marker=dict(size=14, color="#2ca02c", symbol="star"),
                             name=t("nz.curve_best", value=num(x[best]), psnr=_db(float(values[best]))), hoverinfo="skip"))
    current = int(np.argmin(np.abs(np.asarray(x, dtype=float) - chosen)))
    fig.add_trace(go.Scatter(x=[x[current]], y=[values[current]], mode="markers", marker=dict(size=12, color="#d62728"),
                             name=t("nz.curve_current"), hoverinfo="skip"))
    fig.update_layout(title=dict(text=title), height=380, margin=dict(l=10, r=10, t=50, b=10), dragmode=False,
                      xaxis_title=x_title, yaxis_title="PSNR (dB)", legend=dict(orientation="h", y=-0.25))
    return fig


share_in_url("denoising", {
    "nz_sample": Setting(str, SAMPLES), "nz_kind": Setting(str, NOISES), "nz_std": Setting(int, low=0, high=100),
    "nz_fraction": Setting(int, low=0, high=50), "nz_seed": Setting(int, low=0, high=10_000), "nz_size": Setting(int, SIZES),
    "nz_sigma": Setting(float, low=SIGMAS[0], high=SIGMAS[-1]), "nz_median": Setting(bool),
})
st.title(t("nz.title"))
st.markdown(t("nz.intro"))

with st.sidebar:
    st.header(t("nz.image_header"))
pixels = image_picker("nz")
with st.sidebar:
    st.header(t("nz.noise_header"))
    kind = st.radio(t("nz.kind"), NOISES, format_func=labels("nz.kind_"), key="nz_kind")
    if kind == "gaussian":
        amount = float(st.slider(t("nz.std"), 0, 100, 25, key="nz_std", help=t("nz.std_help")))
    else:
        amount = st.slider(t("nz.fraction"), 0, 50, 5, key="nz_fraction", format="%d %%", help=t("nz.fraction_help")) / 100
    seed = int(st.number_input(t("nz.seed"), 0, 10_000, 0, key="nz_seed", help=t("nz.seed_help")))
    st.header(t("nz.filter_header"))
    size = int(st.select_slider(t("nz.size"), SIZES, value=5, key="nz_size"))
    sigma = float(st.slider(t("nz.sigma"), SIGMAS[0], SIGMAS[-1], 1.0, 0.2, key="nz_sigma"))
    show_median = st.toggle(t("nz.median"), value=True, key="nz_median", help=t("nz.median_help"))

if pixels is None:
    st.stop()

reference = working_image(pixels, WORKING_SIDE)
noisy = add_noise(reference, kind, amount, seed)
smoothed = gaussian_smooth(noisy, size, sigma)
error_noisy, error_smoothed = mse(reference, noisy), mse(reference, smoothed)
psnr_noisy, psnr_smoothed = psnr(reference, noisy), psnr(reference, smoothed)
median = median_filter(noisy, 3) if show_median else None

st.caption(t("nz.working", rows=reference.shape[0], cols=reference.shape[1]))
columns = st.columns(4 if median is not None else 3)
columns[0].image(reference, caption=t("nz.original"), width="stretch")
amount_text = num(amount) if kind == "gaussian" else pct(amount, 0)
columns[1].image(noisy, caption=t(f"nz.noisy_caption_{kind}", amount=amount_text, psnr=_db(psnr_noisy)), width="stretch")
columns[2].image(smoothed, caption=t("nz.smoothed_caption", k=size, sigma=num(sigma), psnr=_db(psnr_smoothed)), width="stretch")
if median is not None:
    psnr_median = psnr(reference, median)
    columns[3].image(median, caption=t("nz.median_caption", psnr=_db(psnr_median)), width="stretch")

m1, m2, m3 = st.columns(3)
m1.metric(t("nz.psnr_noisy"), _db(psnr_noisy))
gain = psnr_smoothed - psnr_noisy if math.isfinite(psnr_noisy) else None
m2.metric(t("nz.psnr_smoothed"), _db(psnr_smoothed), None if gain is None else _signed_db(gain))
if median is not None:
    m3.metric(t("nz.psnr_median"), _db(psnr_median), None if gain is None else _signed_db(psnr_median - psnr_noisy))

if kind == "salt_pepper":
    st.info(t("nz.salt_pepper_note"), icon=":material/grain:")
if gain is None:
    st.info(t("nz.no_noise"), icon=":material/info:")
elif gain > 0:
    st.success(t("nz.better", gain=num(gain, decimals=2)), icon=":material/check_circle:")
else:
    st.warning(t("nz.worse", gain=num(-gain, decimals=2)), icon=":material/warning:")

st.header(t("nz.psnr_header"))
st.markdown(t("nz.psnr_text"))
st.latex(r"\mathrm{MSE} = \frac{1}{N} \sum_{i=1}^{N} (x_i - y_i)^2, \qquad "
         r"\mathrm{PSNR} = 10 \log_{10} \frac{255^2}{\mathrm{MSE}}\ \mathrm{dB}")
st.latex(_psnr_latex(error_noisy, psnr_noisy, t("nz.latex_noisy")))
st.latex(_psnr_latex(error_smoothed, psnr_smoothed, t("nz.latex_smoothed")))

st.header(t("nz.kernel_header"))
k1, k2 = st.columns([1, 2])
plot(matrix_figure(get_kernel("gaussian", size, sigma), t("nz.kernel_title", k=size, sigma=num(sigma)),
     decimals=2 if size > 7 else 3, lang=current_language()), "nz_kernel_fig", k1)
k2.markdown(t("nz.kernel_text", k=size, padding=same_padding(size)))
k2.caption(t("nz.border_note", padding=same_padding(size)))

st.header(t("nz.curve_header"))
st.markdown(t("nz.curve_text"))
c1, c2 = st.columns(2)
plot(_curve_figure(SIGMAS, _sigma_curve(reference, noisy, size), sigma, psnr_noisy,
     t("nz.curve_sigma_title", k=size), t("nz.sigma_axis")), "nz_sigma_curve", c1)
plot(_curve_figure(SIZES, _size_curve(reference, noisy, sigma), size, psnr_noisy,
     t("nz.curve_size_title", sigma=num(sigma)), t("nz.size_axis")), "nz_size_curve", c2)
st.caption(t("nz.curve_note"))
