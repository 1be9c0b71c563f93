"""cnn_core: the computations behind the CNN course app, usable from a notebook or a script.

The names below are the stable public API; each module also has the helpers its page needs.
"""

from .arithmetic import SizeSteps, conv_output_size, conv_transpose_output_size, effective_kernel_size, same_padding, size_steps
from .augment import Augmentation, augment_images, perturb
from .backprop import chain_rule, gradient_step
from .convolution import PixelExplanation, convolve, explain_output_pixel, output_shape
from .errors import InputError
from .images import SAMPLES, ImageError, LoadedImage, load_image, open_image, resize_to, sample_image, to_grayscale
from .layer import ACTIVATIONS, LayerExplanation, conv_layer, explain_layer_output
from .kernels import KERNELS, get_kernel, parse_kernel, parse_kernel_text, validate_kernel
from .model import CLASSES, ModelError, feature_maps, load_model, model_card, predict, predict_batch, preprocess
from .noise import add_noise, psnr
from .parameters import conv_parameters, fc_parameters
from .pooling import pool2d
from .receptive_field import input_region, receptive_fields
from .softmax import cross_entropy, softmax

__all__ = [
    "CLASSES", "KERNELS", "SAMPLES", "Augmentation", "ImageError", "InputError", "LoadedImage", "ModelError",
    "PixelExplanation", "SizeSteps", "add_noise", "augment_images", "chain_rule", "conv_output_size", "conv_parameters",
    "convolve", "cross_entropy", "explain_output_pixel", "fc_parameters", "feature_maps", "get_kernel", "gradient_step",
    "input_region", "load_image", "load_model", "model_card", "open_image", "output_shape", "parse_kernel",
    "parse_kernel_text", "perturb", "pool2d", "predict", "predict_batch", "preprocess", "psnr", "receptive_fields",
    "resize_to", "same_padding", "sample_image", "size_steps", "softmax", "to_grayscale", "validate_kernel",
    "ACTIVATIONS", "LayerExplanation", "conv_layer", "conv_transpose_output_size", "effective_kernel_size",
    "explain_layer_output",
]
