"""Spectrograms and SpecAugment against a plain numpy DFT, np.interp and hand-made masks; WAV files written with `wave`."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from cnn_core import InputError
from cnn_core.audio import (
    Band,
    Warp,
    builtin_sound,
    frame_sizes,
    frequency_mask,
    place,
    read_wav,
    spec_augment,
    spectrogram,
    synthetic_sound,
    time_mask,
    time_warp,
)
from tests.conftest import wav_bytes


def numpy_stft_magnitude(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|DFT| of Hann-windowed frames centred on every hop (reflect padding), by an explicit DFT matrix."""
    padded = np.pad(x, n_fft // 2, mode="reflect")
    frames = np.array([padded[i : i + n_fft] for i in range(0, len(padded) - n_fft + 1, hop)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    k, n = np.arange(n_fft // 2 + 1)[:, None], np.arange(n_fft)[None, :]
    dft = np.exp(-2j * np.pi * k * n / n_fft)
    return np.abs(dft @ (frames * window).T) * 2 / window.sum()


# --- spectrogram ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_fft", "hop"), [(64, 16), (100, 30), (256, 256)])
def test_stft_matches_a_numpy_dft_of_frames(n_fft: int, hop: int) -> None:
    rng = np.random.default_rng(n_fft)
    x = rng.normal(0, 0.3, 1000)
    spec = spectrogram(x, 8000, n_fft, hop, top_db=400)
    expected = numpy_stft_magnitude(x, n_fft, hop)
    assert spec.db.shape == expected.shape == (n_fft // 2 + 1, 1 + len(x) // hop)
    np.testing.assert_allclose(10 ** (spec.db.astype(np.float64) / 20), expected, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(spec.frequencies, np.arange(n_fft // 2 + 1) * 8000 / n_fft)
    np.testing.assert_allclose(spec.times, np.arange(spec.db.shape[1]) * hop / 8000)


def test_a_sine_reads_its_amplitude_in_db_at_its_frequency() -> None:
    rate, n_fft = 8000, 256
    frequency = 40 * rate / n_fft  # exactly bin 40: 1250 Hz
    x = 0.5 * np.sin(2 * np.pi * frequency * np.arange(rate) / rate)
    spec = spectrogram(x, rate, n_fft, 64)
    middle = spec.db[:, spec.db.shape[1] // 2]
    assert int(np.argmax(middle)) == 40
    assert middle[40] == pytest.approx(20 * np.log10(0.5), abs=0.01)  # −6.02 dB


def test_db_floor_is_top_db_below_the_maximum() -> None:
    x = synthetic_sound("chirp")
    spec = spectrogram(x, 16000, 400, 160)
    assert spec.db.min() == pytest.approx(spec.db.max() - 80, abs=1e-3)
    raw = 20 * np.log10(np.maximum(numpy_stft_magnitude(x.astype(np.float64), 400, 160), 1e-10))
    np.testing.assert_allclose(spec.db, np.maximum(raw, raw.max() - 80), atol=2e-3)


@pytest.mark.parametrize(("n_fft", "hop", "key"), [(8, 4, "aug.err_stft"), (64, 65, "aug.err_stft"), (64, 0, "aug.err_stft"),
                                                   (2048, 512, "aug.err_too_short")])
def test_bad_stft_settings(n_fft: int, hop: int, key: str) -> None:
    with pytest.raises(InputError) as caught:
        spectrogram(np.zeros(1000), 8000, n_fft, hop)
    assert caught.value.key == key


def test_not_finite_signal() -> None:
    x = np.zeros(1000)
    x[10] = np.nan
    with pytest.raises(InputError) as caught:
        spectrogram(x, 8000, 64, 16)
    assert caught.value.key == "aug.err_not_finite"


def test_frame_sizes_in_samples() -> None:
    assert frame_sizes(16000, 25, 10) == (400, 160)  # the paper's 25 ms windows every 10 ms
    assert frame_sizes(44100, 25, 10) == (1102, 441)
    with pytest.raises(InputError):
        frame_sizes(16000, 0, 10)


# --- built-in sounds ---------------------------------------------------------------------------------------


def test_chirp_rises_as_its_formula_says() -> None:
    rate, seconds = 16000, 2.0
    x = synthetic_sound("chirp", rate, seconds)
    assert x.dtype == np.float32 and len(x) == rate * seconds and np.abs(x).max() <= 1
    spec = spectrogram(x, rate, 512, 256)
    for time in (0.15, 1.0, 1.8):  # before 0.3 s only the chirp sounds; later the 1 kHz tone joins it
        column = spec.db[:, int(round(time * rate / 256))]
        expected = 200 + (0.4 * rate - 200) * time / seconds  # the instantaneous frequency f0 + (f1 − f0)·t/T
        peaks = spec.frequencies[np.argsort(column)[-3:]]
        assert np.min(np.abs(peaks - expected)) < 2 * rate / 512


def test_vowel_is_voiced_at_its_pitch() -> None:
    rate = 16000
    x = synthetic_sound("vowel", rate)
    spectrum = np.abs(np.fft.rfft(x[: rate // 4] * np.hanning(rate // 4)))
    frequencies = np.fft.rfftfreq(rate // 4, 1 / rate)
    strongest = frequencies[np.argmax(spectrum)]
    assert np.min(np.abs(strongest / 125 - np.arange(1, 10))) < 0.1  # a harmonic of the 125 Hz pitch


def test_unknown_sound() -> None:
    with pytest.raises(InputError) as caught:
        synthetic_sound("drums")
    assert caught.value.key == "aug.err_unknown_sound"


# --- masks and warping -------------------------------------------------------------------------------------


def test_masks_set_exactly_the_band_to_the_fill_value() -> None:
    spec = np.random.default_rng(0).normal(size=(20, 30)).astype(np.float32)
    out, band = frequency_mask(spec, 5, 4, fill=-99.0)
    expected = spec.copy()
    expected[5:9, :] = -99.0
    assert np.array_equal(out, expected) and band == Band("frequency", 5, 9) and band.width == 4
    out, band = time_mask(spec, 26, 4, fill=7.0)
    expected = spec.copy()
    expected[:, 26:30] = 7.0
    assert np.array_equal(out, expected) and band == Band("time", 26, 30)
    assert not np.shares_memory(out, spec) and spec[0, 26] != 7.0  # the input is not modified


def test_mask_default_fill_is_the_mean_and_width_zero_changes_nothing() -> None:
    spec = np.arange(12, dtype=np.float32).reshape(3, 4)
    out, _ = time_mask(spec, 1, 2)
    assert np.all(out[:, 1:3] == spec.mean()) and np.array_equal(out[:, [0, 3]], spec[:, [0, 3]])
    out, band = frequency_mask(spec, 3, 0)
    assert np.array_equal(out, spec) and band.width == 0


@pytest.mark.parametrize(("start", "width"), [(-1, 2), (18, 3), (0, 21), (2, -1)])
def test_masks_outside_the_spectrogram_are_refused(start: int, width: int) -> None:
    with pytest.raises(InputError) as caught:
        frequency_mask(np.zeros((20, 5)), start, width)
    assert caught.value.key == "aug.err_band_frequency"


def test_warp_of_zero_is_the_identity() -> None:
    spec = np.random.default_rng(1).normal(size=(17, 40)).astype(np.float32)
    for centre in (1, 20, 39):
        out, warp = time_warp(spec, centre, 0)
        assert out.shape == spec.shape and np.allclose(out, spec, atol=1e-6) and warp.distance == 0


@pytest.mark.parametrize(("centre", "distance"), [(20, 5), (20, -7), (10, 25), (3, -2)])
def test_warp_matches_np_interp_on_each_side(centre: int, distance: int) -> None:
    rng = np.random.default_rng(centre)
    spec = rng.normal(size=(6, 40)).astype(np.float32)
    out, warp = time_warp(spec, centre, distance)
    frames, target = spec.shape[1], centre + distance
    assert out.shape == spec.shape and warp == Warp(centre, target)
    # column j of the stretched left part samples the original at j·(c − 1)/(target − 1); the right part likewise
    left_at = np.arange(target) * (centre - 1) / max(target - 1, 1)
    right_at = centre + np.arange(frames - target) * (frames - centre - 1) / max(frames - target - 1, 1)
    for row in range(spec.shape[0]):
        columns = np.arange(frames)
        expected = np.concatenate([np.interp(left_at, columns, spec[row]), np.interp(right_at, columns, spec[row])])
        np.testing.assert_allclose(out[row], expected, atol=1e-5)


def test_warp_moves_a_marked_column() -> None:
    spec = np.zeros((5, 50), dtype=np.float32)
    spec[:, 20] = 1.0
    out, _ = time_warp(spec, 20, 8)
    assert int(np.argmax(out[0])) == 28 and out[0, 28] == pytest.approx(1.0)


@pytest.mark.parametrize(("centre", "distance"), [(0, 0), (50, 0), (10, -10), (10, 40)])
def test_warp_outside_is_refused(centre: int, distance: int) -> None:
    with pytest.raises(InputError) as caught:
        time_warp(np.zeros((4, 50)), centre, distance)
    assert caught.value.key == "aug.err_warp"


def test_place_is_reproducible_and_fits() -> None:
    shape = (201, 101)
    for seed in range(30):
        policy = place(shape, -20, 27, 40, seed)
        assert policy == place(shape, -20, 27, 40, seed)
        assert 0 <= policy.freq_start <= shape[0] - 27 and 0 <= policy.time_start <= shape[1] - 40
        assert 21 <= policy.warp_centre <= shape[1] - 21  # |w| + 1 from either edge, as in the paper
    assert len({place(shape, 10, 20, 30, seed).time_start for seed in range(30)}) > 5


def test_place_shrinks_what_does_not_fit() -> None:
    policy = place((10, 12), 40, 50, 100, 0)
    assert (policy.warp_distance, policy.freq_width, policy.time_width) == (5, 10, 12)
    out, warp, freq_band, time_band = spec_augment(np.zeros((10, 12)), policy)
    assert 1 <= warp.target <= 11 and out.shape == (10, 12)


def test_spec_augment_is_warp_then_masks_with_the_original_mean() -> None:
    spec = spectrogram(synthetic_sound("vowel"), 16000, 400, 160).db
    policy = place(spec.shape, 12, 15, 25, seed=4)
    out, warp, freq_band, time_band = spec_augment(spec, policy)
    warped, _ = time_warp(spec, policy.warp_centre, policy.warp_distance)
    expected = warped.copy()
    expected[freq_band.start : freq_band.stop, :] = spec.mean()
    expected[:, time_band.start : time_band.stop] = spec.mean()
    assert np.array_equal(out, expected)
    assert (freq_band.width, time_band.width, warp.distance) == (15, 25, 12)


# --- WAV files ---------------------------------------------------------------------------------------------


def test_read_16_bit_mono() -> None:
    values = np.array([0, 16384, -16384, 32767, -32768], dtype="<i2")
    sound = read_wav(wav_bytes(values, 8000, 2))
    np.testing.assert_allclose(sound.signal, values / 32768.0, atol=1e-7)
    assert sound.sample_rate == 8000 and not sound.truncated


def test_read_8_bit_unsigned() -> None:
    values = np.array([128, 255, 0, 192], dtype=np.uint8)  # 128 is silence in 8-bit WAV
    sound = read_wav(wav_bytes(values, 11025, 1))
    np.testing.assert_allclose(sound.signal, [0.0, 127 / 128, -1.0, 0.5])


def test_read_16_bit_stereo_as_the_mean_of_the_channels() -> None:
    left = np.array([1000, 2000, -3000], dtype="<i2")
    right = np.array([3000, -2000, -1000], dtype="<i2")
    interleaved = np.stack([left, right], axis=1).ravel()
    sound = read_wav(wav_bytes(interleaved, 22050, 2, channels=2))
    np.testing.assert_allclose(sound.signal, [2000 / 32768, 0.0, -2000 / 32768], atol=1e-7)


def test_read_24_and_32_bit() -> None:
    values24 = [0, 4194304, -4194304, -1]  # ±2²², i.e. ±0.5
    raw = b"".join(struct.pack("<i", v)[:3] for v in values24)
    sound = read_wav(wav_bytes(np.frombuffer(raw, np.uint8), 8000, 3))
    np.testing.assert_allclose(sound.signal, [0, 0.5, -0.5, -1 / 2**23], atol=1e-9)
    values32 = np.array([2**30, -(2**31)], dtype="<i4")
    np.testing.assert_allclose(read_wav(wav_bytes(values32, 8000, 4)).signal, [0.5, -1.0])


def test_long_files_keep_their_first_seconds() -> None:
    rate = 8000
    values = (np.arange(rate * 7) % 100).astype("<i2")
    sound = read_wav(wav_bytes(values, rate, 2), max_seconds=5)
    assert len(sound.signal) == 5 * rate and sound.truncated and sound.file_seconds == pytest.approx(7.0)
    np.testing.assert_allclose(sound.signal[:100] * 32768, np.arange(100))


@pytest.mark.parametrize(("data", "key"), [
    (b"", "aug.err_wav_empty"),
    (b"ID3\x03\x00 this is an mp3, not a wav", "aug.err_wav_not_wav"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "aug.err_wav_corrupt"),
])
def test_bad_files(data: bytes, key: str) -> None:
    with pytest.raises(InputError) as caught:
        read_wav(data)
    assert caught.value.key == key


def test_wav_without_samples() -> None:
    with pytest.raises(InputError) as caught:
        read_wav(wav_bytes(np.array([], dtype="<i2"), 8000, 2))
    assert caught.value.key == "aug.err_wav_empty"


def test_float_wav_is_refused_with_a_reason() -> None:
    data = bytearray(wav_bytes(np.zeros(100, dtype="<i4"), 8000, 4))
    data[20:22] = struct.pack("<H", 3)  # format tag 3: IEEE float, which the wave module does not read
    with pytest.raises(InputError) as caught:
        read_wav(bytes(data))
    assert caught.value.key == "aug.err_wav_format"


def test_too_long_and_odd_rate() -> None:
    with pytest.raises(InputError) as caught:
        read_wav(wav_bytes(np.full(1000 * 601, 128, dtype=np.uint8), 1000, 1))  # 601 s
    assert caught.value.key == "aug.err_wav_too_long"
    with pytest.raises(InputError) as caught:
        read_wav(wav_bytes(np.zeros(100, dtype="<i2"), 500, 2))
    assert caught.value.key == "aug.err_wav_rate"


def test_builtin_sound() -> None:
    sound = builtin_sound("vowel")
    assert sound.sample_rate == 16000 and sound.seconds == 2.0 and not sound.truncated
    assert np.array_equal(sound.signal, synthetic_sound("vowel"))
