"""Streamlit helpers shared by every page: language, image picker, figures."""

from .common import image_picker, labels, language_selector, show_error, t
from .figures import image_figure, map_figure, matrix_figure

__all__ = ["image_figure", "image_picker", "labels", "language_selector", "map_figure", "matrix_figure", "show_error", "t"]
