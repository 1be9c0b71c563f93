"""The playground's dilation (shape, formula, inspector with gaps) against torch, and its depthwise note in RGB mode."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnn_core import get_kernel, resize_to, sample_image, to_grayscale
from tests.conftest import open_app

PAGE = "pages/playground.py"


def test_dilation_in_the_playground_matches_torch() -> None:
    at = open_app(PAGE, "en", pg_side="64")
    at.number_input(key="pg_dilation").set_value(3)
    at.number_input(key="pg_padding").set_value(2).run()
    assert not at.exception and not at.error
    image = to_grayscale(resize_to(sample_image(at.selectbox(key="pg_sample").value), 64)).astype(np.float64)
    out = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(get_kernel("sobel_x"))[None, None], padding=2, dilation=3)[0, 0]
    shown = "\n".join(m.value for m in at.markdown) + "\n".join(s.value for s in at.success)
    assert f"{out.shape[0]}" in at.success[0].value and f"{out.shape[1]}" in at.success[0].value
    latex = "\n".join(m.value for m in at.markdown if "$$" in m.value)
    assert r"- 3 \cdot 2 - 1}{1} \right\rfloor + 1 = " + str(out.shape[0]) in latex
    assert "m + 2p - d(k-1) - 1" in latex and "d = 3" in shown
    assert any("taps every 3" in c.proto.spec for c in at.get("plotly_chart"))
    assert ":material/check_circle:" in shown


def test_rgb_mode_says_it_is_depthwise_and_links_the_layer_page() -> None:
    at = open_app(PAGE, "es", pg_mode="rgb")
    assert not at.exception
    assert any("cada canal por separado" in i.value for i in at.info)
    assert any("conv_layer" in str(link.proto) for link in at.get("page_link"))
