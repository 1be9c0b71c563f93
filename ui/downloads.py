"""Download buttons: a student keeps a feature map, a layer's output or a quiz's result."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st

from .common import t


def csv_bytes(values: np.ndarray) -> bytes:
    """A 2-D array as CSV, one line per row; an H×W×C array as one line per pixel (row, column, one value per channel)."""
    values = np.asarray(values)
    buffer = io.StringIO()
    if values.ndim == 2:
        np.savetxt(buffer, values, delimiter=",", fmt="%.9g")
    else:
        rows, cols, channels = values.shape
        r, c = np.divmod(np.arange(rows * cols), cols)
        table = np.column_stack([r, c, values.reshape(rows * cols, channels)])
        header = ",".join(["row", "col", *(f"c{i}" for i in range(channels))])
        np.savetxt(buffer, table, delimiter=",", fmt=["%d", "%d", *["%.9g"] * channels], header=header, comments="")
    return buffer.getvalue().encode()


def npy_bytes(values: np.ndarray) -> bytes:
    """The array in NumPy's .npy format (np.load reads it back exactly)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values), allow_pickle=False)
    return buffer.getvalue()


def array_download(values: np.ndarray, file_stem: str, where=None) -> None:
    """CSV and NPY buttons for `values`; the files are made only when a student clicks (no cost on a rerun)."""
    # No keys: each button is known by its label and file name, and every keyed widget is one more entry that Streamlit
    # reads back each time another widget of the rerun looks at the session state.
    row = (where or st).container(horizontal=True)
    row.download_button(t("dl.csv"), lambda: csv_bytes(values), f"{file_stem}.csv", "text/csv", on_click="ignore",
                        icon=":material/download:", help=t("dl.csv_help"))
    row.download_button(t("dl.npy"), lambda: npy_bytes(values), f"{file_stem}.npy", "application/octet-stream",
                        on_click="ignore", icon=":material/download:", help=t("dl.npy_help"))
