"""Images drawn in the browser from one small file: a feature map from its 8-bit indices, an input as it is.

Streamlit Components v2 (`st.components.v2.component`), inline JavaScript, no per-pixel JSON. For a feature map
(`pixel_map`) Python sends one PNG of the map's palette indices (or, for three channels, one RGB PNG of per-channel
indices), the 256-colour palette and the two values at the ends of the scale; the browser colours it onto a canvas
(nearest neighbour), reads back on hover the value each index stands for (≈ low + index/255·(high − low)) and reports
a click as a trigger {row, col}. For an input image (`pixel_picture`) it sends the image itself (gray PNG, lossless
WebP for colour) and the hover reads each pixel's exact value.

What changes with a click or a setting, the selected pixel, the receptive field and the padding around the input, is
one more tiny element for all the maps of a page (`pixel_frames`): the images' own messages stay identical, and
Streamlit's message cache does not resend them (a click must stay under 50 kB, a stride or padding change under 150 kB).
"""

from __future__ import annotations

import json
import struct
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnn_core.i18n import _BABEL_LOCALES

from .caching import by_content
from .common import current_language, keep_pixel, t
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

  // The padding (zeros around an input, in cells) widens the box: CSS padding in % of the width keeps cells square
  const padding = () => entry.padding || 0;
  function cellAt(event) {
    const p = padding(), r = box.getBoundingClientRect();
    const col = Math.floor(((event.clientX - r.left) / r.width) * (cols + 2 * p)) - p;
    const row = Math.floor(((event.clientY - r.top) / r.height) * (rows + 2 * p)) - p;
    return row >= -p && row < rows + p && col >= -p && col < cols + p ? [row, col] : null;
  }
  const inside = (cell) => cell && cell[0] >= 0 && cell[0] < rows && cell[1] >= 0 && cell[1] < cols;

  function drawMarker() {
    const p = padding();
    box.style.padding = p ? (100 * p) / (cols + 2 * p) + "%" : "0";
    const r = box.getBoundingClientRect();
    const scale = globalThis.devicePixelRatio || 1;
    overlay.width = Math.round(r.width * scale);
    overlay.height = Math.round(r.height * scale);
    overlay.style.width = r.width + "px";
    overlay.style.height = r.height + "px";
    const g = overlay.getContext("2d");
    g.clearRect(0, 0, overlay.width, overlay.height);
    const w = overlay.width / (cols + 2 * p), h = overlay.height / (rows + 2 * p), line = 3 * scale;
    if (p) {  // the padding's zeros: a gray band and a dotted frame around the image
      g.fillStyle = "rgba(128, 128, 128, 0.18)";
      g.fillRect(0, 0, overlay.width, overlay.height);
      g.clearRect(p * w, p * h, cols * w, rows * h);
      g.setLineDash([4 * scale, 4 * scale]);
      g.lineWidth = 2 * scale;
      g.strokeStyle = "#888";
      g.strokeRect(scale, scale, overlay.width - 2 * scale, overlay.height - 2 * scale);
      g.setLineDash([]);
    }
    const at = entry.window;  // [top, left, rows, cols] in the image's cells (a window may reach into the padding)
    if (!at || at[0] == null || at[0] >= rows + p || at[1] >= cols + p) return;
    // At the edge of the canvas the frame moves inside the cells, or its outer strokes would be cut off
    const m = line + scale;
    const x = Math.max((at[1] + p) * w, m), y = Math.max((at[0] + p) * h, m);
    const ww = Math.min((at[1] + at[3] + p) * w, overlay.width - m) - x, hh = Math.min((at[0] + at[2] + p) * h, overlay.height - m) - y;
    // Around the cells, not over them: their own colours stay visible; a thin dark edge keeps it seen on white
    g.lineWidth = line;
    g.strokeStyle = head.colour;
    g.strokeRect(x - line / 2, y - line / 2, ww + line, hh + line);
    g.lineWidth = scale;
    g.strokeStyle = "rgba(0, 0, 0, 0.7)";
    g.strokeRect(x - line - scale / 2, y - line - scale / 2, ww + 2 * line + scale, hh + 2 * line + scale);
  }
  entry.redraw = drawMarker;

  function valueText(row, col) {
    const values = {};
    const k = (row * cols + col) * 4;
    lows.forEach((low, c) => {
      // an input's own values are exact; a map's index stands for low + index/255·(high − low)
      values["v" + c] = head.exact ? String(indices[k + c]) : format(low + (indices[k + c] / 255) * (highs[c] - low));
    });
    const text = inside([row, col]) ? head.hover : head.padding_hover;
    const index = (v) => String(v).replace("-", "\u2212");  // the padding's rows and columns are negative
    return text.replace(/\{(\w+)\}/g, (m, name) => (name === "row" ? index(row) : name === "col" ? index(col) : values[name] ?? m));
  }

  box.addEventListener("mousemove", (event) => {
    const cell = indices && cellAt(event);
    if (!cell) { tip.style.display = "none"; return; }
    tip.textContent = valueText(cell[0], cell[1]);
    tip.style.display = "block";
    const r = box.getBoundingClientRect();
    const x = event.clientX - r.left, y = event.clientY - r.top;
    tip.style.left = Math.min(x + 12, Math.max(r.width - tip.offsetWidth, 0)) + "px";
    tip.style.top = (y > tip.offsetHeight + 16 ? y - tip.offsetHeight - 8 : y + 16) + "px";
  });
  box.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  if (head.clickable) picture.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (!inside(cell)) return;
    entry.window = [cell[0], cell[1], 1, 1];  // at once; the page's answer moves it to the same pixel
    drawMarker();
    setTriggerValue("click", { row: cell[0], col: cell[1] });
  });

  const observer = new ResizeObserver(drawMarker);
  observer.observe(picture);
  state.get(parentElement).observer = observer;

  createImageBitmap(new Blob([png], { type: head.mime }), { colorSpaceConversion: "none", premultiplyAlpha: "none" })
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
        if (head.exact) {  // the image as it is (a gray PNG decodes to equal r, g, b)
          shown.data[i] = indices[i]; shown.data[i + 1] = indices[i + 1]; shown.data[i + 2] = indices[i + 2];
        } else if (palette.length) {
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

# What a click or a setting changes, alone: every map's framed cells and padding (a few hundred bytes), not the images.
_MARK_JS = r"""
export default function ({ data }) {
  if (!(data instanceof Uint8Array)) return;
  const maps = (globalThis.__cnnPixelmaps ??= {});
  for (const mark of JSON.parse(new TextDecoder().decode(data))) {
    const entry = (maps[mark.id] ??= {});
    entry.window = mark.window ?? null;
    entry.padding = mark.padding ?? 0;
    entry.redraw?.();
  }
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
    exact: bool = False  # an image as it is (uint8 values), not a map's indices
    mime: str = "image/png"

    @property
    def signed(self) -> bool:
        return self.lows[0] < 0


def _indices(z: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.rint((z - low) / ((high - low) or 1.0) * 255).clip(0, 255).astype(np.uint8)


@by_content(64)  # MapImage is frozen: one object for every session
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


@by_content(32)  # every value: a 512-px map has 786,432
def rgb_image(values: np.ndarray) -> MapImage:
    """Three channels as colour (each clipped to 0–255); each channel's scale covers 0–255, so a map inside it is
    shown exactly, and its own values beyond, so the hover reads them."""
    z = np.asarray(values, dtype=np.float64)
    lows = tuple(min(float(z[:, :, c].min()), 0.0) for c in range(3))
    highs = tuple(max(float(z[:, :, c].max()), 255.0) for c in range(3))
    index = np.stack([_indices(z[:, :, c], lows[c], highs[c]) for c in range(3)], axis=2)
    return MapImage(encode_image(index), b"", lows, highs, z.shape[:2])


@by_content(16)
def picture_image(pixels: np.ndarray) -> MapImage:
    """A uint8 image (H×W gray or H×W×3 RGB) as it is: a gray PNG, or lossless WebP for colour (a third smaller)."""
    channels = 3 if pixels.ndim == 3 else 1
    rgb = channels == 3
    return MapImage(encode_image(pixels, webp=rgb), b"", (0.0,) * channels, (255.0,) * channels, pixels.shape[:2],
                    exact=True, mime="image/webp" if rgb else "image/png")


def _payload(image: MapImage, key: str, hover: str, alt: str, clickable: bool = True, padding_hover: str = "") -> bytes:
    head = json.dumps({
        "id": key, "rows": image.shape[0], "cols": image.shape[1], "lows": image.lows, "highs": image.highs,
        "palette": len(image.palette), "locale": _BABEL_LOCALES.get(current_language(), "es_ES").replace("_", "-"),
        "hover": hover, "padding_hover": padding_hover, "alt": alt, "colour": SELECTED, "exact": image.exact,
        "mime": image.mime, "clickable": clickable,
    }, ensure_ascii=False, separators=(",", ":")).encode()
    return struct.pack(">I", len(head)) + head + image.palette + image.png


def payload_header(data: bytes) -> dict | None:
    """The JSON header of a payload made by _payload (scripts/loadtest.py reads it the same way); None for other data
    (the frames' JSON list): a payload starts with its header's length, whose first byte is 0 under 16 MB."""
    if data[:1] != b"\0":
        return None
    size = struct.unpack(">I", data[:4])[0]
    return json.loads(data[4 : 4 + size])


def _ignore() -> None:
    """The click's callback: Streamlit returns a component's trigger values only for events that have one."""


# No key: a keyed component's state is presented anew (a class defined, its garbage collected later) each time any
# widget reads the session state, twenty times a playground rerun. Without one, the element is known by its data, so an
# unchanged map keeps its identity, is not resent, and its click comes back in the mount's return value.
def pixel_map(image: MapImage, key: str, prefix: str, alt: str, where=None) -> tuple[int, int]:
    """The map at the width of its column (`where`); a click on it moves `prefix`_row/_col.

    Returns that pixel (the centre at first), to be framed with `frame` (pixel_picture's `framed`, or pixel_frames). Draw
    the map before whatever shows the pixel: the click is read here. The hover reads "row r, column c: ≈ value" (three
    values for RGB) in the session's language.
    """
    hover = t("app.pixel_hover_rgb" if not image.palette else "app.pixel_hover")
    with where or nullcontext():
        click = _map(data=_payload(image, key, hover, alt), on_click_change=_ignore).click
    try:
        row, col = int(click["row"]), int(click["col"])
    except (KeyError, TypeError, ValueError, OverflowError):  # a click as the JavaScript sends it, or nothing
        row = col = None
    if row is not None and 0 <= row < image.shape[0] and 0 <= col < image.shape[1]:
        st.session_state[f"{prefix}_row"], st.session_state[f"{prefix}_col"] = row, col
    return keep_pixel(prefix, image.shape)


def frame(key: str, window: tuple[int, int, int, int] | list[int] | None = None, padding: int = 0) -> dict:
    """What the map `key` frames: `window` (top, left, rows, cols; top and left may be negative, in the padding) and
    `padding` cells of zeros drawn around it."""
    return {"id": key, "window": None if window is None else [int(v) for v in window], "padding": int(padding)}


def pixel_frames(frames: list[dict], where=None) -> None:
    """The frames of every map on the page, as one tiny element (bytes: Streamlit looks for tables in a dict's values)."""
    with where or nullcontext():
        _mark(data=json.dumps(frames, separators=(",", ":")).encode())


def pixel_picture(pixels: np.ndarray, key: str, alt: str, padding: int = 0,
                  window: tuple[int, int, int, int] | None = None, where=None, framed: tuple[dict, ...] = ()) -> None:
    """An input image at the width of its column (`where`): `padding` cells of zeros around it behind a dotted frame,
    `window` framed (see `frame`), and the other maps' `framed` sent with it. The hover reads each pixel's exact value,
    and 0 in the padding."""
    image = picture_image(pixels)
    rgb = len(image.lows) == 3
    hover = t("app.picture_hover_rgb" if rgb else "app.picture_hover")
    with (where or st).container(gap=None):
        _map(data=_payload(image, key, hover, alt, clickable=False, padding_hover=t("app.picture_hover_padding")))
        pixel_frames([frame(key, window, padding), *framed])
