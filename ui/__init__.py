"""Streamlit helpers shared by every page: language, image picker, figures."""

from .common import (
    Setting,
    bounded_number,
    checked_upload,
    image_picker,
    index_ranges,
    labels,
    language_selector,
    latex_number,
    network_layers,
    network_logits,
    network_maps,
    network_ready,
    network_saliency,
    num,
    pct,
    per_session,
    plot,
    presenter_mode,
    relink,
    say_if_page_unknown,
    set_link_value,
    share_in_url,
    show_error,
    t,
    take_click,
    working_image,
)
from .figures import (
    bar_figure,
    curves_figure,
    editable,
    heatmap_figure,
    image_figure,
    map_figure,
    matrix_figure,
    mosaic_figure,
    norms_figure,
    overlay_figure,
    product_figure,
    slices_figure,
)
from .pixelmap import MapImage, keep_pixel, map_image, pixel_map, rgb_image

__all__ = [
    "Setting", "bounded_number", "checked_upload", "index_ranges", "latex_number", "num", "pct", "per_session", "plot", "presenter_mode", "relink",
    "say_if_page_unknown",
    "set_link_value", "share_in_url", "take_click", "keep_pixel", "map_image", "pixel_map", "rgb_image", "working_image",
    "bar_figure", "editable", "heatmap_figure", "image_figure", "image_picker", "labels", "language_selector", "map_figure",
    "matrix_figure", "mosaic_figure", "network_layers", "network_logits", "network_maps", "network_ready", "product_figure", "show_error", "t",
    "MapImage", "curves_figure", "network_saliency", "norms_figure", "overlay_figure", "slices_figure",
]
