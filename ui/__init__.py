"""Streamlit helpers shared by every page: language, image picker, figures."""

from .common import (
    Setting, bounded_number, clickable_image, image_picker, index_ranges, labels, latex_number, language_selector, network_layers,
    network_logits, network_maps, network_ready, num, pct, plot, presenter_mode, relink, say_if_page_unknown, set_link_value,
    share_in_url, show_error, t, take_click, take_image_click,
)
from .figures import (
    bar_figure, editable, heatmap_figure, image_figure, map_figure, map_picture, matrix_figure, mosaic_figure, product_figure,
)
from .figures import curves_figure, norms_figure, overlay_figure, slices_figure
from .common import network_saliency

__all__ = [
    "Setting", "bounded_number", "index_ranges", "latex_number", "num", "pct", "plot", "presenter_mode", "relink", "say_if_page_unknown",
    "set_link_value", "share_in_url", "take_click", "clickable_image", "take_image_click", "map_picture",
    "bar_figure", "editable", "heatmap_figure", "image_figure", "image_picker", "labels", "language_selector", "map_figure",
    "matrix_figure", "mosaic_figure", "network_layers", "network_logits", "network_maps", "network_ready", "product_figure", "show_error", "t",
    "curves_figure", "network_saliency", "norms_figure", "overlay_figure", "slices_figure",
]
