"""Sounds, their spectrograms, and SpecAugment (Park et al., 2019): time warping, frequency masking and time masking."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .errors import InputError

SAMPLE_RATE = 16_000
MAX_SECONDS = 5.0  # only the beginning of a longer file is used: enough to see, quick to draw
MAX_FILE_SECONDS = 600.0  # longer files are refused: nobody needs to upload an album to see a spectrogram
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 192_000
SOUNDS: tuple[str, ...] = ("chirp", "vowel")
TOP_DB = 80.0  # dynamic range shown: quieter components are raised to max − 80 dB


@dataclass(frozen=True)
class Sound:
    """A mono signal in [-1, 1] and its sampling rate."""

    signal: np.ndarray  # float32
    sample_rate: int
    file_seconds: float  # duration of the whole file (the signal may be only its first MAX_SECONDS)

    @property
    def seconds(self) -> float:
        """Duration of `signal`."""
        return len(self.signal) / self.sample_rate

    @property
    def truncated(self) -> bool:
        """Whether `signal` is only the beginning of the file."""
        return self.file_seconds > self.seconds + 0.5 / self.sample_rate


def synthetic_sound(name: str, sample_rate: int = SAMPLE_RATE, seconds: float = 2.0) -> np.ndarray:
    """A built-in sound as float32 in [-1, 1]: 'chirp' (rising chirp and a steady tone) or 'vowel' (a voice gliding /a/ → /i/)."""
    t = np.arange(int(round(sample_rate * seconds))) / sample_rate
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.05)  # 50 ms fades: no clicks at the ends
    if name == "chirp":
        f0, f1 = 200.0, 0.4 * sample_rate
        phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))  # instantaneous frequency f0 → f1, linearly
        signal = 0.45 * np.sin(phase) + 0.25 * np.sin(2 * np.pi * 1000.0 * t) * (t > 0.3 * seconds)
    elif name == "vowel":
        # A pulse-like voice: harmonics of a pitch with slight vibrato, weighted by three formant resonances that move from
        # those of /a/ to those of /i/ (Peterson & Barney's averages for a male voice).
        f_pitch = 125.0 * (1 + 0.01 * np.sin(2 * np.pi * 5.0 * t))
        phase = 2 * np.pi * np.cumsum(f_pitch) / sample_rate
        glide = np.clip((t - 0.35 * seconds) / (0.3 * seconds), 0.0, 1.0)
        formants = np.outer(1 - glide, (730.0, 1090.0, 2440.0)) + np.outer(glide, (270.0, 2290.0, 3010.0))
        harmonics = np.arange(1, int(0.45 * sample_rate / 130.0) + 1)
        frequency = np.outer(f_pitch, harmonics)  # samples × harmonics
        gain = sum(np.exp(-0.5 * ((frequency - formants[:, [i]]) / width) ** 2) * level
                   for i, (width, level) in enumerate(((90.0, 1.0), (110.0, 0.6), (160.0, 0.35))))
        signal = (gain / harmonics * np.sin(np.outer(phase, harmonics))).sum(axis=1)
        signal *= 0.5 / np.abs(signal).max()
    else:
        raise InputError("aug.err_unknown_sound", name=name, names=", ".join(SOUNDS))
    return (signal * fade).astype(np.float32)


def builtin_sound(name: str) -> Sound:
    """A built-in sound (see `synthetic_sound`) at SAMPLE_RATE, two seconds long."""
    signal = synthetic_sound(name)
    return Sound(signal=signal, sample_rate=SAMPLE_RATE, file_seconds=len(signal) / SAMPLE_RATE)


def read_wav(data: bytes, max_seconds: float = MAX_SECONDS) -> Sound:
    """An uploaded PCM WAV file (8, 16, 24 or 32 bit, any channels) as mono float32, its first `max_seconds` only."""
    if not data:
        raise InputError("aug.err_wav_empty")
    if not (data[:4] == b"RIFF" and data[8:12] == b"WAVE"):
        raise InputError("aug.err_wav_not_wav")
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            channels, width = reader.getnchannels(), reader.getsampwidth()
            rate, frames = reader.getframerate(), reader.getnframes()
            if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
                raise InputError("aug.err_wav_rate", rate=rate, low=MIN_SAMPLE_RATE, high=MAX_SAMPLE_RATE)
            if width not in (1, 2, 3, 4) or channels < 1:
                raise InputError("aug.err_wav_format")
            if frames / rate > MAX_FILE_SECONDS:
                raise InputError("aug.err_wav_too_long", seconds=round(frames / rate), limit=round(MAX_FILE_SECONDS))
            raw = reader.readframes(min(frames, int(max_seconds * rate)))
    except InputError:
        raise
    except wave.Error as error:  # "unknown format": compressed or floating-point WAV, which the standard library does not read
        raise InputError("aug.err_wav_format" if "unknown format" in str(error) else "aug.err_wav_corrupt") from None
    except (EOFError, OSError, ValueError, struct.error):
        raise InputError("aug.err_wav_corrupt") from None
    usable = len(raw) // (width * channels) * width * channels  # a file cut mid-frame: keep the whole frames
    samples = _pcm_to_float(raw[:usable], width).reshape(-1, channels).mean(axis=1, dtype=np.float64)
    if len(samples) == 0:
        raise InputError("aug.err_wav_empty")
    return Sound(signal=samples.astype(np.float32), sample_rate=rate, file_seconds=frames / rate)


def _pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    """Little-endian PCM bytes as float64 in [-1, 1): 8-bit is unsigned (128 is silence), wider samples are signed."""
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    if width == 3:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        return np.where(values >= 1 << 23, values - (1 << 24), values).astype(np.float64) / (1 << 23)
    dtype = {2: "<i2", 4: "<i4"}[width]
    return np.frombuffer(raw, dtype=dtype).astype(np.float64) / float(1 << (8 * width - 1))


@dataclass(frozen=True)
class Spectrogram:
    """Magnitude of the short-time Fourier transform in dB: rows are frequencies, columns are times."""

    db: np.ndarray  # n_fft // 2 + 1 × frames, float32
    frequencies: np.ndarray  # Hz of each row
    times: np.ndarray  # seconds of each column (the centre of its frame)
    sample_rate: int
    n_fft: int
    hop: int


def frame_sizes(sample_rate: int, window_ms: float, hop_ms: float) -> tuple[int, int]:
    """The window length n_fft and the hop in samples for a window and a hop given in milliseconds."""
    if not (math.isfinite(window_ms) and math.isfinite(hop_ms) and window_ms > 0 and hop_ms > 0):
        raise InputError("aug.err_frame_ms", window=window_ms, hop=hop_ms)
    n_fft = max(int(round(sample_rate * window_ms / 1000)), 16)
    return n_fft, min(max(int(round(sample_rate * hop_ms / 1000)), 1), n_fft)


def spectrogram(signal: np.ndarray, sample_rate: int, n_fft: int = 512, hop: int = 128, top_db: float = TOP_DB) -> Spectrogram:
    """torch.stft (periodic Hann window, centred frames, reflect padding) in dB; a sine of amplitude A reads 20·log10 A."""
    x = np.asarray(signal, dtype=np.float64)
    if isinstance(n_fft, bool) or not 16 <= int(n_fft) <= 8192 or isinstance(hop, bool) or not 1 <= int(hop) <= int(n_fft):
        raise InputError("aug.err_stft", n_fft=n_fft, hop=hop)
    if x.ndim != 1 or len(x) < n_fft:
        raise InputError("aug.err_too_short", samples=x.size, n_fft=n_fft)
    if not np.isfinite(x).all():
        raise InputError("aug.err_not_finite")
    window = torch.hann_window(int(n_fft), periodic=True, dtype=torch.float64)
    stft = torch.stft(torch.from_numpy(x), int(n_fft), hop_length=int(hop), window=window, center=True, pad_mode="reflect",
                      return_complex=True)
    magnitude = stft.abs().numpy() * 2 / float(window.sum())
    db = 20 * np.log10(np.maximum(magnitude, 1e-10))
    db = np.maximum(db, db.max() - top_db)
    frequencies = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    times = np.arange(db.shape[1]) * hop / sample_rate
    return Spectrogram(db=db.astype(np.float32), frequencies=frequencies, times=times, sample_rate=int(sample_rate),
                       n_fft=int(n_fft), hop=int(hop))


@dataclass(frozen=True)
class Band:
    """Rows (axis 'frequency') or columns (axis 'time') start … stop − 1 of a spectrogram."""

    axis: str
    start: int
    stop: int

    @property
    def width(self) -> int:
        """Number of rows or columns in the band."""
        return self.stop - self.start


@dataclass(frozen=True)
class Warp:
    """The column `centre` of the spectrogram moved to column `target`."""

    centre: int
    target: int

    @property
    def distance(self) -> int:
        """How far the centre moved (negative: to the left, earlier)."""
        return self.target - self.centre


def _as_spectrogram(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError("aug.err_spec_shape", shape=tuple(array.shape))
    return array


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not float(value).is_integer():
        raise InputError("err.not_integer", name=name, value=value)
    return int(value)


def _mask(values: np.ndarray, axis: str, start: int, width: int, fill: float | None) -> tuple[np.ndarray, Band]:
    spec = _as_spectrogram(values)
    start, width = _whole(start, "start"), _whole(width, "width")
    size = spec.shape[0 if axis == "frequency" else 1]
    if width < 0 or start < 0 or start + width > size:
        raise InputError(f"aug.err_band_{axis}", start=start, width=width, size=size)
    out = spec.copy()
    value = float(spec.mean()) if fill is None else float(fill)  # SpecAugment fills with the mean (0 after normalising)
    if axis == "frequency":
        out[start : start + width, :] = value
    else:
        out[:, start : start + width] = value
    return out, Band(axis, start, start + width)


def frequency_mask(values: np.ndarray, start: int, width: int, fill: float | None = None) -> tuple[np.ndarray, Band]:
    """Rows start … start + width − 1 set to `fill` (default: the spectrogram's mean), and the band masked."""
    return _mask(values, "frequency", start, width, fill)


def time_mask(values: np.ndarray, start: int, width: int, fill: float | None = None) -> tuple[np.ndarray, Band]:
    """Columns start … start + width − 1 set to `fill` (default: the spectrogram's mean), and the band masked."""
    return _mask(values, "time", start, width, fill)


def time_warp(values: np.ndarray, centre: int, distance: int) -> tuple[np.ndarray, Warp]:
    """Column `centre` moved by `distance`: the columns before and after it resampled (linearly) to fill their new widths."""
    spec = _as_spectrogram(values)
    centre, distance = _whole(centre, "centre"), _whole(distance, "distance")
    frames = spec.shape[1]
    target = centre + distance
    if not (1 <= centre < frames and 1 <= target < frames):
        raise InputError("aug.err_warp", centre=centre, distance=distance, frames=frames)
    x = torch.from_numpy(spec)[None]  # 1 × frequencies × frames: interpolate treats the frames as the length
    left = F.interpolate(x[:, :, :centre], size=target, mode="linear", align_corners=True)
    right = F.interpolate(x[:, :, centre:], size=frames - target, mode="linear", align_corners=True)
    return torch.cat((left, right), dim=2)[0].numpy(), Warp(centre, target)


@dataclass(frozen=True)
class Policy:
    """Where SpecAugment warps and masks one spectrogram."""

    warp_centre: int
    warp_distance: int
    freq_start: int
    freq_width: int
    time_start: int
    time_width: int


def place(shape: tuple[int, int], warp: int, freq_width: int, time_width: int, seed: int = 0) -> Policy:
    """Random positions for a warp of `warp` columns and masks of the given widths (each reduced to fit `shape`)."""
    rows, frames = (int(v) for v in shape)
    warp = int(math.copysign(min(abs(int(warp)), max((frames - 2) // 2, 0)), warp))
    freq_width = min(max(int(freq_width), 0), rows)
    time_width = min(max(int(time_width), 0), frames)
    rng = np.random.default_rng(int(seed))
    # The centre keeps |w| columns away from the edges, as in the paper, so the warped point stays inside.
    centre = int(rng.integers(abs(warp) + 1, frames - abs(warp))) if frames >= 2 * abs(warp) + 2 else frames // 2
    return Policy(
        warp_centre=centre, warp_distance=warp,
        freq_start=int(rng.integers(0, rows - freq_width + 1)), freq_width=freq_width,
        time_start=int(rng.integers(0, frames - time_width + 1)), time_width=time_width,
    )


def spec_augment(values: np.ndarray, policy: Policy) -> tuple[np.ndarray, Warp, Band, Band]:
    """The policy applied in the paper's order: time warp, frequency mask, time mask (masks filled with the original's mean)."""
    spec = _as_spectrogram(values)
    fill = float(spec.mean())
    warped, warp = time_warp(spec, policy.warp_centre, policy.warp_distance)
    masked, freq_band = frequency_mask(warped, policy.freq_start, policy.freq_width, fill)
    masked, time_band = time_mask(masked, policy.time_start, policy.time_width, fill)
    return masked, warp, freq_band, time_band
