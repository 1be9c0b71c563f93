"""A feature map drawn in the browser from its 8-bit indices: hover values, the selected pixel's frame, clicks.

Streamlit Components v2 (`st.components.v2.component`), inline JavaScript, no per-pixel JSON. Python sends one PNG of
the map's palette indices (or, for three channels, one RGB PNG of per-channel indices), the 256-colour palette and the
two values at the ends of the scale; the browser colours it onto a canvas (nearest neighbour), reads back on hover the
value each index stands for (≈ low + index/255·(high − low)) and reports a click as a trigger {row, col}.

The selected pixel is a second, tiny element: a click changes only it, so the map's own message stays identical and
Streamlit's message cache does not resend the image (a click must stay under 50 kB).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn_core.i18n import _BABEL_LOCALES

from .caching import BY_CONTENT
from .common import current_language, t
from .figures import _palette, encode_image

SELECTED = "#ffd400"  # the other figures' frame around the chosen pixel / receptive field

_JS = r"""
const maps = (globalThis.__cnnPixelmaps ??= {});
const state = new WeakMap();

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(0);
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + size)));
  const palette = bytes.subarray(4 + size, 4 + size + head.palette);
  const png = bytes.subarray(4 + size + head.palette);
  return { head, palette, png };
}

function formatter(locale) {
  const options = (fraction) => ({ useGrouping: "always", ...fraction });
  const small = new Intl.NumberFormat(locale, options({ maximumSignificantDigits: 3 }));
  const whole = new Intl.NumberFormat(locale, options({ maximumFractionDigits: 0 }));
  // 3 significant digits, never fewer than the integer part (1234, not 1230); the minus sign as the app writes it
  return (v) => (Math.abs(v) >= 1000 ? whole : small).format(v === 0 ? 0 : v).replace("-", "\u2212");
}

export default function ({ data, parentElement, setTriggerValue }) {
  if (!(data instanceof Uint8Array)) return;
  const { head, palette, png } = parse(data);
  const { rows, cols, lows, highs } = head;
  const token = {};
  const previous = state.get(parentElement);
  previous?.observer.disconnect();
  state.set(parentElement, { token, observer: null });

  const box = document.createElement("div");
  box.className = "pixelmap";
  box.dataset.map = head.id;
  const picture = document.createElement("canvas");
  picture.width = cols;
  picture.height = rows;
  picture.setAttribute("role", "img");
  picture.setAttribute("aria-label", head.alt);
  const overlay = document.createElement("canvas");
  overlay.className = "overlay";
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.setAttribute("role", "status");
  box.append(picture, overlay, tip);
  parentElement.querySelector(".pixelmap")?.remove();  // only our own box: Streamlit's <style> for the css is here too
  parentElement.append(box);

  const entry = (maps[head.id] ??= {});
  let indices = null;
  const format = formatter(head.locale);

  function cellAt(event) {
    const r = picture.getBoundingClientRect();
    const col = Math.floor(((event.clientX - r.left) / r.width) * cols);
    const row = Math.floor(((event.clientY - r.top) / r.height) * rows);
    return row >= 0 && row < rows && col >= 0 && col < cols ? [row, col] : null;
  }

  function drawMarker() {
    const r = picture.getBoundingClientRect();
    const scale = globalThis.devicePixelRatio || 1;
    overlay.width = Math.round(r.width * scale);
    overlay.height = Math.round(r.height * scale);
    overlay.style.width = r.width + "px";
    overlay.style.height = r.height + "px";
    const g = overlay.getContext("2d");
    g.clearRect(0, 0, overlay.width, overlay.height);
    const at = entry.selected;
    if (!at || at[0] == null || at[0] >= rows || at[1] >= cols) return;
    const w = overlay.width / cols, h = overlay.height / rows, line = 3 * scale;
    // Around the pixel, not over it: the pixel's own colour stays visible; a thin dark edge keeps it seen on white
    g.lineWidth = line;
    g.strokeStyle = head.colour;
    g.strokeRect(at[1] * w - line / 2, at[0] * h - line / 2, w + line, h + line);
    g.lineWidth = scale;
    g.strokeStyle = "rgba(0, 0, 0, 0.7)";
    g.strokeRect(at[1] * w - line - scale / 2, at[0] * h - line - scale / 2, w + 2 * line + scale, h + 2 * line + scale);
  }
  entry.redraw = drawMarker;

  function valueText(row, col) {
    const values = {};
    const k = (row * cols + col) * 4;
    lows.forEach((low, c) => {
      values["v" + c] = format(low + (indices[k + c] / 255) * (highs[c] - low));
    });
    return head.hover.replace(/\{(\w+)\}/g, (m, name) => (name === "row" ? row : name === "col" ? col : values[name] ?? m));
  }

  picture.addEventListener("mousemove", (event) => {
    const cell = indices && cellAt(event);
    if (!cell) { tip.style.display = "none"; return; }
    tip.textContent = valueText(cell[0], cell[1]);
    tip.style.display = "block";
    const r = box.getBoundingClientRect();
    const x = event.clientX - r.left, y = event.clientY - r.top;
    tip.style.left = Math.min(x + 12, Math.max(r.width - tip.offsetWidth, 0)) + "px";
    tip.style.top = (y > tip.offsetHeight + 16 ? y - tip.offsetHeight - 8 : y + 16) + "px";
  });
  picture.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  picture.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (!cell) return;
    entry.selected = cell;  // at once; the page's answer moves it to the same pixel
    drawMarker();
    setTriggerValue("click", { row: cell[0], col: cell[1] });
  });

  const observer = new ResizeObserver(drawMarker);
  observer.observe(picture);
  state.get(parentElement).observer = observer;

  createImageBitmap(new Blob([png], { type: "image/png" }), { colorSpaceConversion: "none", premultiplyAlpha: "none" })
    .then((bitmap) => {
      if (state.get(parentElement)?.token !== token) return;
      const scratch = document.createElement("canvas");
      scratch.width = cols;
      scratch.height = rows;
      const s = scratch.getContext("2d", { willReadFrequently: true });
      s.drawImage(bitmap, 0, 0);
      indices = s.getImageData(0, 0, cols, rows).data;
      const shown = new ImageData(cols, rows);
      for (let i = 0; i < indices.length; i += 4) {
        if (palette.length) {
          const p = indices[i] * 3;
          shown.data[i] = palette[p]; shown.data[i + 1] = palette[p + 1]; shown.data[i + 2] = palette[p + 2];
        } else {  // three channels: each index back to its value, shown clipped to 0-255
          for (let c = 0; c < 3; c++) {
            shown.data[i + c] = Math.round(lows[c] + (indices[i + c] / 255) * (highs[c] - lows[c]));
          }
        }
        shown.data[i + 3] = 255;
      }
      picture.getContext("2d").putImageData(shown, 0, 0);
      picture.dataset.ready = "1";
      drawMarker();
    });

  return () => {
    observer.disconnect();
    if (entry.redraw === drawMarker) entry.redraw = null;
  };
}
"""

_CSS = """
.pixelmap { position: relative; width: 100%; line-height: 0; }
.pixelmap canvas { display: block; width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
.pixelmap .overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
.pixelmap .tip { display: none; position: absolute; z-index: 2; pointer-events: none; white-space: nowrap;
  padding: 2px 6px; border-radius: 4px; background: rgba(20, 20, 20, 0.85); color: #fff;
  font: 0.8rem/1.4 var(--st-font, sans-serif); }
"""

# The selected pixel alone: a click resends this (a few hundred bytes), not the map.
_MARK_JS = r"""
export default function ({ data }) {
  const entry = ((globalThis.__cnnPixelmaps ??= {})[data.id] ??= {});
  entry.selected = data.row == null ? null : [data.row, data.col];
  entry.redraw?.();
}
"""

_map = st.components.v2.component("cnn_pixelmap", js=_JS, css=_CSS)
_mark = st.components.v2.component("cnn_pixelmark", js=_MARK_JS)


@dataclass(frozen=True)
class MapImage:
    """A map as it travels: the PNG of its 8-bit indices, the palette (none for RGB), the value at each end per channel."""

    png: bytes
    palette: bytes
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    shape: tuple[int, int]

    @property
    def signed(self) -> bool:
        return self.lows[0] < 0


def _indices(z: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.rint((z - low) / ((high - low) or 1.0) * 255).clip(0, 255).astype(np.uint8)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CONTENT)
def map_image(values: np.ndarray) -> MapImage:
    """One channel in ui.figures' map colours: red +, blue −, white 0 (symmetric scale), gray when never negative."""

    z = np.asarray(values, dtype=np.float64)
    low, high = float(z.min()), float(z.max())
    if low < 0:
        limit = max(abs(low), abs(high)) or 1.0
        low, high, palette = -limit, limit, _palette("RdBu_r")
    else:
        palette = _palette("gray")
    return MapImage(encode_image(_indices(z, low, high)), bytes(palette), (low,), (high,), z.shape)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=BY_CONTENT)  # every value: a 512-px map has 786,432
def rgb_image(values: np.ndarray) -> MapImage:
    """Three channels as colour (each clipped to 0–255); each channel's scale covers 0–255, so a map inside it is
    shown exactly, and its own values beyond, so the hover reads them."""
    z = np.asarray(values, dtype=np.float64)
    lows = tuple(min(float(z[:, :, c].min()), 0.0) for c in range(3))
    highs = tuple(max(float(z[:, :, c].max()), 255.0) for c in range(3))
    index = np.stack([_indices(z[:, :, c], lows[c], highs[c]) for c in range(3)], axis=2)
    return MapImage(encode_image(index), b"", lows, highs, z.shape[:2])


def _payload(image: MapImage, key: str, hover: str, alt: str) -> bytes:
    head = json.dumps({
        "id": key, "rows": image.shape[0], "cols": image.shape[1], "lows": image.lows, "highs": image.highs,
        "palette": len(image.palette), "locale": _BABEL_LOCALES.get(current_language(), "es_ES").replace("_", "-"),
        "hover": hover, "alt": alt, "colour": SELECTED,
    }, ensure_ascii=False, separators=(",", ":")).encode()
    return struct.pack(">I", len(head)) + head + image.palette + image.png


def _take_click(key: str, prefix: str, shape: tuple[int, int]) -> Callable[[], None]:
    def clicked() -> None:  # a callback: runs before the rerun, so the whole run sees the new pixel
        click = (st.session_state.get(key) or {}).get("click")
        try:
            row, col = int(click["row"]), int(click["col"])
        except (KeyError, TypeError, ValueError):
            return
        if 0 <= row < shape[0] and 0 <= col < shape[1]:
            st.session_state[f"{prefix}_row"], st.session_state[f"{prefix}_col"] = row, col
    return clicked


def pixel_map(image: MapImage, key: str, prefix: str, alt: str, where=None) -> None:
    """The map at the width of its column (`where`), the pixel `prefix`_row/_col framed; a click moves them.

    The hover reads "row r, column c: ≈ value" (three values for RGB) in the session's language.
    """
    hover = t("app.pixel_hover_rgb" if not image.palette else "app.pixel_hover")
    row, col = st.session_state.get(f"{prefix}_row"), st.session_state.get(f"{prefix}_col")
    with (where or st).container(gap=None):
        _map(data=_payload(image, key, hover, alt), key=key, on_click_change=_take_click(key, prefix, image.shape))
        _mark(data={"id": key, "row": row, "col": col}, key=f"{key}_mark")
