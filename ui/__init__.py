"""Streamlit helpers shared by every page: language, image picker, figures."""

from .common import (
    Setting,
    clickable_image,
    image_picker,
    index_ranges,
    labels,
    language_selector,
    latex_number,
    network_logits,
    network_maps,
    network_ready,
    network_saliency,
    num,
    pct,
    plot,
    presenter_mode,
    set_link_value,
    share_in_url,
    show_error,
    t,
    take_click,
    take_image_click,
)
from .figures import (
    bar_figure,
    curves_figure,
    editable,
    heatmap_figure,
    image_figure,
    map_figure,
    map_picture,
    matrix_figure,
    mosaic_figure,
    norms_figure,
    overlay_figure,
    product_figure,
    slices_figure,
)

__all__ = [
    "Setting", "index_ranges", "latex_number", "num", "pct", "plot", "presenter_mode", "set_link_value", "share_in_url", "take_click",
    "clickable_image", "take_image_click", "map_picture",
    "bar_figure", "editable", "heatmap_figure", "image_figure", "image_picker", "labels", "language_selector", "map_figure",
    "matrix_figure", "mosaic_figure", "network_logits", "network_maps", "network_ready", "product_figure", "show_error", "t",
    "curves_figure", "network_saliency", "norms_figure", "overlay_figure", "slices_figure",
]
