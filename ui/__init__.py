"""Streamlit helpers shared by every page: language, image picker, figures."""

from .common import (
    Setting, bounded_number, image_picker, index_ranges, labels, latex_number, language_selector, network_layers, network_logits, network_maps, network_ready, num, pct, plot,
    presenter_mode, relink, say_if_page_unknown, set_link_value, share_in_url, show_error, t, take_click,
)
from .figures import (
    bar_figure, click_layer, editable, heatmap_figure, image_figure, map_figure, matrix_figure, mosaic_figure,
)

__all__ = [
    "Setting", "bounded_number", "index_ranges", "latex_number", "num", "pct", "plot", "presenter_mode", "relink", "say_if_page_unknown", "set_link_value", "share_in_url", "take_click",
    "bar_figure", "click_layer", "editable", "heatmap_figure", "image_figure", "image_picker", "labels", "language_selector", "map_figure",
    "matrix_figure", "mosaic_figure", "network_layers", "network_logits", "network_maps", "network_ready", "show_error", "t",
]
