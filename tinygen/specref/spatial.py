"""Ops that rearrange an NHWC image: DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND,
SPACE_TO_BATCH_ND, PAD, PADV2. Raw values are copied; only PAD writes a value of its own."""

from __future__ import annotations

import numpy as np

from .registry import Node, kernel


def _block_size(node: Node) -> int:
    block = node.option("block_size", 0)
    if block < 1 or len(node.inputs[0].shape) != 4:
        node.refuse(f"block size {block} on a {len(node.inputs[0].shape)}-D input is not covered")
    return block


@kernel("DEPTH_TO_SPACE")
def depth_to_space(node: Node):
    """Output pixel (h * bs + dy, w * bs + dx) channel d is input pixel (h, w) channel (dy * bs + dx) * D + d."""
    node.require_types(("float32", "int8"))
    bs = _block_size(node)
    n, h, w, c = node.inputs[0].shape
    if c % (bs * bs):
        node.refuse(f"{c} channels are not a multiple of {bs}^2")

    def run(values):
        blocks = values[0].reshape(n, h, w, bs, bs, c // (bs * bs))
        return [blocks.transpose(0, 1, 3, 2, 4, 5).reshape(n, h * bs, w * bs, c // (bs * bs))]

    return run


@kernel("SPACE_TO_DEPTH")
def space_to_depth(node: Node):
    node.require_types(("float32", "int8"))
    bs = _block_size(node)
    n, h, w, c = node.inputs[0].shape
    if h % bs or w % bs:
        node.refuse(f"height {h} and width {w} are not multiples of {bs}")

    def run(values):
        blocks = values[0].reshape(n, h // bs, bs, w // bs, bs, c)
        return [blocks.transpose(0, 1, 3, 2, 4, 5).reshape(n, h // bs, w // bs, bs * bs * c)]

    return run


def _as_4d(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """3-D NHC tensors are read as NH1C."""
    return (shape[0], shape[1], 1, shape[2]) if len(shape) == 3 else tuple(shape)


def _blocks_and_edges(node: Node) -> tuple[int, int, int, int]:
    """(block height, block width, top, left) from the block shape and the crops or paddings."""
    rank = len(node.inputs[0].shape)
    if rank not in (3, 4) or len(node.output.shape) != rank:
        node.refuse(f"{rank}-D tensors are not covered (3-D or 4-D)")
    node.require_types(("float32", "int8"))
    block = [int(b) for b in node.constant(1).reshape(-1)]
    edges = [int(e) for e in node.constant(2).reshape(-1)]
    bh, bw = (block[0], block[1]) if rank == 4 else (block[0], 1)
    top, left = (edges[0], edges[2]) if rank == 4 else (edges[0], 0)
    if min(bh, bw) < 1 or min(edges) < 0:
        node.refuse(f"block shape {block} and crops or paddings {edges} are not covered")
    return bh, bw, top, left


@kernel("BATCH_TO_SPACE_ND")
def batch_to_space(node: Node):
    """Input batch (dy * bw + dx) * B + b holds the pixels at offset (dy, dx) of each block of output
    batch b; the top and left crops shift them, positions outside the output are dropped."""
    bh, bw, top, left = _blocks_and_edges(node)
    n, h, w, c = _as_4d(node.inputs[0].shape)
    on, oh, ow, _ = _as_4d(node.output.shape)
    if n != on * bh * bw or top + oh > h * bh or left + ow > w * bw:
        node.refuse("the output is not covered by the input's blocks (tflite-micro leaves parts unwritten)")

    def run(values):
        blocks = values[0].reshape(bh, bw, on, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(on, h * bh, w * bw, c)
        return [blocks[:, top : top + oh, left : left + ow]]

    return run


@kernel("SPACE_TO_BATCH_ND")
def space_to_batch(node: Node):
    """Without padding: output batch (dy * bw + dx) * B + b holds the pixels at offset (dy, dx) of each
    block of input batch b. tflite-micro pads with a value it never initializes, so padding is refused."""
    bh, bw, _, _ = _blocks_and_edges(node)
    if np.any(node.constant(2)):
        node.refuse("padding is not covered (tflite-micro pads with an uninitialized value)")
    n, h, w, c = _as_4d(node.inputs[0].shape)
    if h % bh or w % bw:
        node.refuse(f"height {h} and width {w} are not multiples of the block {bh}x{bw}")

    def run(values):
        blocks = values[0].reshape(n, h // bh, bh, w // bw, bw, c).transpose(2, 4, 0, 1, 3, 5)
        return [blocks.reshape(bh * bw * n, h // bh, w // bw, c)]

    return run


@kernel("PAD", "PADV2")
def pad(node: Node):
    """The input copied into an output filled with the pad value: PADV2's constant (raw), else 0, or
    for int8 the output's zero point."""
    x, y = node.inputs[0], node.output
    node.require_types(("float32", "int8", "int16", "int32"), x, y)
    paddings = node.constant(1).astype(np.int64).reshape(-1, 2)
    if len(paddings) != len(x.shape) or paddings.min(initial=0) < 0:
        node.refuse(f"paddings {paddings.tolist()} for a {len(x.shape)}-D input are not covered")
    values_tensor = node.input(2)
    if values_tensor is not None:
        if y.dtype == "int8" and node.quantized(values_tensor) != node.quantized(y):
            node.fail("tflite-micro requires constant_values to have the output's scale and zero point")
        fill = node.constant(2).reshape(-1)[0]
    else:
        fill = node.quantized(y)[1] if y.dtype == "int8" else 0
    return lambda values: [np.pad(values[0], [tuple(p) for p in paddings], constant_values=fill)]
