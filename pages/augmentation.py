"""Data augmentation: random label-keeping changes of an image (and what the CIFAR-10 network says), and SpecAugment for sound."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError
from cnn_core.audio import (
    MAX_SECONDS,
    SOUNDS,
    Band,
    Sound,
    Spectrogram,
    Warp,
    builtin_sound,
    frame_sizes,
    place,
    read_wav,
    spec_augment,
    spectrogram,
)
from cnn_core.augment import Augmentation, agreement, augment_images, pipeline
from cnn_core.images import SAMPLES
from cnn_core.model import CLASSES, predict_batch, preprocess
from ui import Setting, image_picker, labels, network_ready, num, pct, plot, share_in_url, show_error, t, working_image
from ui.caching import BY_CONTENT
from ui.common import current_language

WORKING_SIDE = 160  # the versions are drawn small; the network sees 32×32 anyway
COUNTS = (4, 8, 12, 16)
PER_ROW = 4
WINDOWS_MS = (16, 25, 32, 64)
HOPS_MS = (5, 10, 20)


def _settings() -> tuple[Augmentation, int, int]:
    """The sidebar's transforms, the number of versions and the seed."""
    with st.sidebar:
        st.header(t("aug.transforms_header"))
        st.caption(t("aug.transforms_help"))
        hflip = st.toggle(t("aug.hflip"), value=True, key="aug_hflip")
        vflip = st.toggle(t("aug.vflip"), value=False, key="aug_vflip")
        degrees = st.slider(t("aug.degrees"), 0, 180, 15, 5, key="aug_degrees")
        translate = st.slider(t("aug.translate"), 0, 40, 10, 5, key="aug_translate")
        min_area = st.slider(t("aug.min_area"), 10, 100, 60, 5, key="aug_min_area", help=t("aug.min_area_help"))
        brightness = st.slider(t("aug.brightness"), 0.0, 1.0, 0.3, 0.05, key="aug_brightness", help=t("aug.jitter_help"))
        contrast = st.slider(t("aug.contrast"), 0.0, 1.0, 0.3, 0.05, key="aug_contrast", help=t("aug.jitter_help"))
        saturation = st.slider(t("aug.saturation"), 0.0, 1.0, 0.3, 0.05, key="aug_saturation", help=t("aug.jitter_help"))
        hue = st.slider(t("aug.hue"), 0.0, 0.5, 0.05, 0.01, key="aug_hue", help=t("aug.hue_help"))
        count = int(st.select_slider(t("aug.count"), COUNTS, value=8, key="aug_count"))
        seed = int(st.number_input(t("aug.seed"), 0, 10_000, 0, key="aug_seed", help=t("aug.seed_help")))
    settings = Augmentation(
        hflip=0.5 if hflip else 0.0, vflip=0.5 if vflip else 0.0, degrees=float(degrees), translate=translate / 100,
        min_area=min_area / 100, brightness=brightness, contrast=contrast, saturation=saturation, hue=hue,
    )
    return settings, count, seed


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=BY_CONTENT)
def _versions(working: np.ndarray, count: int, settings: Augmentation, seed: int) -> np.ndarray:
    return augment_images(working, count, settings, seed)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=BY_CONTENT)
def _predict(images: np.ndarray) -> np.ndarray:
    """Class probabilities of each image (the network sees each one centre-cropped and reduced to 32×32)."""
    return predict_batch(np.stack([preprocess(image) for image in images]))


def _images_section(pixels: np.ndarray | None, settings: Augmentation, count: int, seed: int) -> None:
    st.header(t("aug.images_header"))
    st.markdown(t("aug.images_text"))
    if pixels is None:
        st.info(t("aug.no_image"), icon=":material/image:")
        return
    working = working_image(pixels, WORKING_SIDE)
    try:
        versions = _versions(working, count, settings, seed)
    except InputError as error:
        show_error(error)
        return
    probabilities = None
    if network_ready():
        probabilities = _predict(np.concatenate([working[None], versions]))
    else:
        st.caption(t("aug.no_network"))
    names = [t(f"class.{c}") for c in CLASSES]
    left, right = st.columns([1, 3])
    with left:
        st.subheader(t("aug.original"))
        st.image(working, width="stretch")
        if probabilities is not None:
            top = int(np.argmax(probabilities[0]))
            st.metric(t("aug.original_prediction"), names[top], pct(probabilities[0, top], 0), delta_color="off",
                      delta_arrow="off")
            predicted = probabilities[1:].argmax(axis=1)
            same, fraction = agreement(top, predicted)
            st.metric(t("aug.agreement"), t("aug.agreement_value", same=int(same.sum()), total=len(same)),
                      pct(fraction, 0), delta_color="off", delta_arrow="off", help=t("aug.agreement_help"))
    with right:
        st.subheader(t("aug.versions", count=count, seed=seed))
        for start in range(0, count, PER_ROW):
            for column, index in zip(st.columns(PER_ROW), range(start, min(start + PER_ROW, count))):
                if probabilities is None:
                    caption = t("aug.version_plain", index=index + 1)
                else:
                    label = int(predicted[index])
                    caption = t("aug.version_caption", index=index + 1, label=names[label],
                                prob=pct(probabilities[index + 1, label], 0), mark="✓" if same[index] else "✗")  # a caption: plain text, no emoji font needed
                column.image(versions[index], caption=caption, width="stretch")
    if probabilities is not None:
        st.markdown(t("aug.agreement_text"))
        _tta_note()
    with st.expander(t("aug.code_header")):
        code = "from torchvision.transforms import v2\n\ntransform = " + repr(pipeline(settings, working.shape[:2]))
        st.code(code, language="python")
        st.caption(t("aug.code_note"))


def _tta_note() -> None:
    """Test-time augmentation: the six fixed views every prediction averages, and the two test accuracies of the model card."""
    from cnn_core.model import ModelError, model_card

    try:
        evaluation = model_card()["evaluation"]
        tta, plain = float(evaluation["test_accuracy_tta"]), float(evaluation["test_accuracy"])
    except (ModelError, KeyError, TypeError, ValueError):
        return
    st.markdown(t("aug.tta_text", tta=pct(tta, 2), plain=pct(plain, 2)))


def _sound() -> Sound | None:
    """The chosen built-in sound or the uploaded WAV file (None: nothing usable yet)."""
    source = st.radio(t("aug.sound_source"), (*SOUNDS, "upload"), format_func=labels("aug.sound_"), horizontal=True,
                      key="aug_sound")
    if source != "upload":
        return builtin_sound(source)
    file = st.file_uploader(t("aug.wav_upload"), type=["wav"], key="aug_wav", help=t("aug.wav_help", seconds=num(MAX_SECONDS)))
    if file is None:
        st.info(t("aug.wav_waiting"), icon=":material/folder_open:")
        return None
    try:
        sound = read_wav(file.getvalue())
    except InputError as error:
        st.error(t("aug.wav_bad", name=file.name) + " " + error.message(current_language()), icon=":material/warning:")
        return None
    if sound.truncated:
        st.caption(t("aug.wav_truncated", seconds=num(sound.file_seconds, decimals=1), used=num(sound.seconds)))
    return sound


def _band_shape(fig: go.Figure, band: Band, spec: Spectrogram) -> None:
    """The outline of a mask, in seconds and hertz."""
    dt, df = spec.hop / spec.sample_rate, spec.sample_rate / spec.n_fft
    if band.axis == "time":
        x0, x1, y0, y1 = (band.start - 0.5) * dt, (band.stop - 0.5) * dt, -df / 2, spec.frequencies[-1] + df / 2
    else:
        x0, x1, y0, y1 = -dt / 2, spec.times[-1] + dt / 2, (band.start - 0.5) * df, (band.stop - 0.5) * df
    fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(color="#ffffff", width=2, dash="dash"))


def _spectrogram_figure(values: np.ndarray, spec: Spectrogram, title: str, warp_at: int | None = None,
                        warp_to: int | None = None, bands: tuple[Band, ...] = ()) -> go.Figure:
    """A spectrogram heatmap (time on x, frequency on y) with the warp point and the masks drawn on it."""
    dt, df = spec.hop / spec.sample_rate, spec.sample_rate / spec.n_fft
    fig = go.Figure(go.Heatmap(
        z=values, x0=0, dx=dt, y0=0, dy=df, colorscale="Viridis", zmin=float(spec.db.min()), zmax=float(spec.db.max()),
        colorbar=dict(title=dict(text="dB"), thickness=12), hovertemplate=t("aug.spec_hover") + "<extra></extra>",
    ))
    for band in bands:
        if band.width:
            _band_shape(fig, band, spec)
    if warp_at is not None:
        fig.add_vline(x=warp_at * dt, line=dict(color="#00e5ff", width=2), annotation_text=t("aug.warp_mark"),
                      annotation_font_color="#00e5ff", annotation_position="top")
        if warp_to is not None and warp_to != warp_at:
            fig.add_annotation(x=warp_to * dt, y=spec.frequencies[-1] * 0.9, ax=warp_at * dt, ay=spec.frequencies[-1] * 0.9,
                               xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3, arrowcolor="#00e5ff",
                               arrowwidth=2, text="")
    fig.update_layout(title=dict(text=title), height=380, margin=dict(l=10, r=10, t=50, b=10), dragmode=False,
                      xaxis_title=t("aug.axis_time"), yaxis_title=t("aug.axis_frequency"))
    return fig


def _sound_section() -> None:
    st.header(t("aug.sound_header"))
    st.markdown(t("aug.sound_intro"))
    c1, c2 = st.columns([2, 1])
    with c1:
        sound = _sound()
    with c2:
        window_ms = st.select_slider(t("aug.window_ms"), WINDOWS_MS, value=25, key="aug_window")
        hop_ms = st.select_slider(t("aug.hop_ms"), HOPS_MS, value=10, key="aug_hop")
    if sound is None:
        return
    if np.abs(sound.signal).max() > 0:
        st.audio(sound.signal, sample_rate=sound.sample_rate)
    else:  # st.audio scales by the loudest sample, which silence does not have
        st.caption(t("aug.silent"))
    n_fft, hop = frame_sizes(sound.sample_rate, window_ms, hop_ms)
    try:
        spec = spectrogram(sound.signal, sound.sample_rate, n_fft, hop)
    except InputError as error:
        show_error(error)
        return
    rows, frames = spec.db.shape
    st.caption(t("aug.stft_caption", seconds=num(sound.seconds, decimals=2), rate=num(sound.sample_rate), window=window_ms, n_fft=n_fft,
                 hop_ms=hop_ms, hop=hop, frames=frames, rows=rows, nyquist=num(spec.frequencies[-1], decimals=0),
                 step=num(spec.frequencies[1], decimals=1)))

    st.subheader(t("aug.policy_header"))
    p1, p2, p3, p4 = st.columns(4)
    warp = p1.slider(t("aug.warp"), -40, 40, 10, key="aug_warp", help=t("aug.warp_help"))
    freq_width = p2.slider(t("aug.freq_width"), 0, 60, 20, key="aug_freq_width", help=t("aug.freq_width_help"))
    time_width = p3.slider(t("aug.time_width"), 0, 100, 30, key="aug_time_width", help=t("aug.time_width_help"))
    seed = int(p4.number_input(t("aug.spec_seed"), 0, 10_000, 0, key="aug_spec_seed", help=t("aug.spec_seed_help")))
    policy = place(spec.db.shape, warp, freq_width, time_width, seed)
    augmented, moved, freq_band, time_band = spec_augment(spec.db, policy)
    if (policy.warp_distance, policy.freq_width, policy.time_width) != (warp, freq_width, time_width):
        st.warning(t("aug.clamped", warp=policy.warp_distance, freq=policy.freq_width, time=policy.time_width,
                     rows=rows, frames=frames), icon=":material/content_cut:")
    st.markdown(_policy_text(spec, moved, freq_band, time_band))

    left, right = st.columns(2)
    plot(_spectrogram_figure(spec.db, spec, t("aug.spec_original"), warp_at=moved.centre, warp_to=moved.target),
         "aug_spec_original", left)
    plot(_spectrogram_figure(augmented, spec, t("aug.spec_augmented"), warp_at=moved.target, bands=(freq_band, time_band)),
         "aug_spec_augmented", right)
    st.caption(t("aug.fill_note", mean=num(float(spec.db.mean()), decimals=1)))


def _policy_text(spec: Spectrogram, warp: Warp, freq_band: Band, time_band: Band) -> str:
    """Where the warp and the masks landed, in columns and rows, seconds and hertz."""
    times, frequencies = spec.times, spec.frequencies
    lines = [t("aug.policy_warp", centre=warp.centre, centre_s=num(times[warp.centre], decimals=2), target=warp.target,
               target_s=num(times[warp.target], decimals=2), distance=warp.distance)]
    if freq_band.width:
        lines.append(t("aug.policy_freq", start=freq_band.start, stop=freq_band.stop - 1, width=freq_band.width,
                       low=num(frequencies[freq_band.start], decimals=0), high=num(frequencies[freq_band.stop - 1], decimals=0)))
    else:
        lines.append(t("aug.policy_no_freq"))
    if time_band.width:
        lines.append(t("aug.policy_time", start=time_band.start, stop=time_band.stop - 1, width=time_band.width,
                       low=num(times[time_band.start], decimals=2), high=num(times[time_band.stop - 1], decimals=2)))
    else:
        lines.append(t("aug.policy_no_time"))
    return "\n".join(f"- {line}" for line in lines)


share_in_url("augmentation", {
    "aug_sample": Setting(str, SAMPLES), "aug_hflip": Setting(bool), "aug_vflip": Setting(bool),
    "aug_degrees": Setting(int, low=0, high=180), "aug_translate": Setting(int, low=0, high=40),
    "aug_min_area": Setting(int, low=10, high=100), "aug_brightness": Setting(float, low=0.0, high=1.0),
    "aug_contrast": Setting(float, low=0.0, high=1.0), "aug_saturation": Setting(float, low=0.0, high=1.0),
    "aug_hue": Setting(float, low=0.0, high=0.5), "aug_count": Setting(int, COUNTS), "aug_seed": Setting(int, low=0, high=10_000),
    "aug_sound": Setting(str, (*SOUNDS, "upload")), "aug_window": Setting(int, WINDOWS_MS), "aug_hop": Setting(int, HOPS_MS),
    "aug_warp": Setting(int, low=-40, high=40), "aug_freq_width": Setting(int, low=0, high=60),
    "aug_time_width": Setting(int, low=0, high=100), "aug_spec_seed": Setting(int, low=0, high=10_000),
})
st.title(t("aug.title"))
st.markdown(t("aug.intro"))
with st.sidebar:
    st.header(t("aug.image_header"))
image = image_picker("aug")
augmentation, versions_count, versions_seed = _settings()
_images_section(image, augmentation, versions_count, versions_seed)
_sound_section()
