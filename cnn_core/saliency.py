"""Where the network looks: Grad-CAM and occlusion-sensitivity maps of the shipped network, computed with captum."""

from __future__ import annotations

import copy
import threading

import numpy as np
import torch
from captum.attr import LayerAttribution, LayerGradCam, Occlusion
from torch import Tensor, nn

from .model import CLASSES, IMAGE_SIZE, CifarNet, load_model, predict_logits_batch, preprocess, to_input

__all__ = ["GRAD_CAM_LAYERS", "grad_cam", "occlusion", "resolve_target"]

# The blocks whose output Grad-CAM can weigh: the last one (3×3 cells, the "last conv layer") and a finer one.
GRAD_CAM_LAYERS: tuple[str, ...] = ("block3", "block2")

# captum attaches hooks to the model it explains; a private copy keeps them away from the shared network that every
# session's predictions run through, and the lock keeps two explanations from sharing one set of hooks.
_lock = threading.Lock()
_copies: dict[int, CifarNet] = {}


def _explained_model() -> CifarNet:
    """A private copy of the shipped network (same weights, eval mode) for captum's hooks."""
    net = load_model()
    if id(net) not in _copies:
        _copies.clear()
        _copies[id(net)] = copy.deepcopy(net)
    return _copies[id(net)]


def resolve_target(image32: np.ndarray, target: int | str | None, model: nn.Module | None = None) -> int:
    """A class index from an index, a class name or None (the class the app predicts, with its six views)."""
    if target is None:
        if model is None:
            return int(np.argmax(predict_logits_batch(image32[None])[0]))
        with torch.inference_mode():
            return int(model(to_input(image32[None])).argmax(1)[0])
    if isinstance(target, str):
        if target not in CLASSES:
            raise ValueError(f"unknown class {target!r}; expected one of {', '.join(CLASSES)}")
        return CLASSES.index(target)
    index = int(target)
    if not 0 <= index < len(CLASSES):
        raise ValueError(f"class index {index} outside 0–{len(CLASSES) - 1}")
    return index


def _normalise(saliency: Tensor) -> np.ndarray:
    """Keep the positive part (evidence for the class) and scale it so that its maximum is 1; all zero stays zero."""
    positive = saliency.detach().double().clamp(min=0)
    top = float(positive.max())
    return (positive / top if top > 0 else positive).float().cpu().numpy()


def grad_cam(image: np.ndarray, target: int | str | None = None, *, layer: str = "block3",
             model: nn.Module | None = None) -> np.ndarray:
    """Grad-CAM of `target` on one block's output, upsampled (bilinear) to a 32×32 map in [0, 1]."""
    if layer not in GRAD_CAM_LAYERS and model is None:
        raise ValueError(f"Grad-CAM layer must be one of {', '.join(GRAD_CAM_LAYERS)}, got {layer!r}")
    image32 = preprocess(image)
    index = resolve_target(image32, target, model)
    with _lock:
        net = _explained_model() if model is None else model
        x = to_input(image32[None])
        with torch.enable_grad():  # Streamlit or a caller may have switched gradients off; Grad-CAM needs them
            cam = LayerGradCam(net, net.get_submodule(layer)).attribute(x, target=index, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam, (IMAGE_SIZE, IMAGE_SIZE), interpolate_mode="bilinear")
    return _normalise(cam[0, 0])


def occlusion(image: np.ndarray, target: int | str | None = None, window: int = 8, stride: int = 4, *,
              model: nn.Module | None = None) -> np.ndarray:
    """How much covering each window×window square (with the training images' mean colour) lowers the probability of
    `target`, averaged over the squares that cover each pixel (squares start every `stride` pixels, the last one cut at the
    border): a 32×32 map in [0, 1]."""
    window, stride = int(window), int(stride)
    if not 1 <= window <= IMAGE_SIZE:
        raise ValueError(f"window must be between 1 and {IMAGE_SIZE}, got {window}")
    if not 1 <= stride <= window:
        raise ValueError(f"stride must be between 1 and the window ({window}), got {stride}")
    image32 = preprocess(image)
    index = resolve_target(image32, target, model)
    with _lock:
        net = _explained_model() if model is None else model
        positions = (-(-(IMAGE_SIZE - window) // stride) + 1) ** 2  # captum cuts the last square at the border

        def probabilities(batch: Tensor) -> Tensor:
            return torch.softmax(net(batch), dim=1)

        with torch.inference_mode():
            attribution = Occlusion(probabilities).attribute(
                to_input(image32[None]), sliding_window_shapes=(3, window, window), strides=(3, stride, stride),
                baselines=0.0,  # 0 after normalisation is the mean colour of the training images
                target=index, perturbations_per_eval=min(positions, 256),
            )
    return _normalise(attribution[0, 0])
