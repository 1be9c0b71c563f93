"""cnn_core: the computations behind the CNN course app, usable from a notebook or a script."""

from .arithmetic import SizeSteps, conv_output_size, same_padding, size_steps
from .convolution import PixelExplanation, convolve, explain_output_pixel, output_shape
from .errors import InputError
from .images import SAMPLES, ImageError, LoadedImage, load_image, open_image, resize_to, sample_image, to_grayscale
from .kernels import KERNELS, get_kernel, parse_kernel, parse_kernel_text, validate_kernel

__all__ = [
    "KERNELS", "SAMPLES", "ImageError", "InputError", "LoadedImage", "PixelExplanation", "SizeSteps",
    "conv_output_size", "convolve", "explain_output_pixel", "get_kernel", "load_image", "open_image", "output_shape",
    "parse_kernel", "parse_kernel_text", "resize_to", "same_padding", "sample_image", "size_steps", "to_grayscale",
    "validate_kernel",
]
