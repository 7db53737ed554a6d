"""Planned arena against tflite-micro's arena and against the lower bound.

TFLM's figure is its RecordingMicroAllocator total (tensor data, the per-op state such as
per-channel multipliers, and its bookkeeping), printed by print_allocations(). tinygen's
arena holds tensor data and scratch only: its multipliers and tables are compiled into flash.
Run: python3 benchmarks/memory.py  (needs the verify extra)
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import trained_int8_models, write_section
from tinygen import zoo
from tinygen.compiler.pipeline import LoadedModel, compile_model, load_model
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite


def tflm_arena_bytes(tflite_bytes: bytes) -> int:
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=16 << 20)
    read_fd, write_fd = os.pipe()
    saved = os.dup(2)
    os.dup2(write_fd, 2)  # print_allocations writes to the C-level stderr
    try:
        interpreter.print_allocations()
    finally:
        os.dup2(saved, 2)
        os.close(write_fd)
    text = os.read(read_fd, 1 << 20).decode()
    os.close(read_fd)
    return int(re.search(r"Arena allocation total (\d+) bytes", text).group(1))


def models() -> list[tuple[str, LoadedModel]]:
    found = []
    for name, build in zoo.MLPERF_TINY.items():
        data = write_tflite(build(seed=0))
        found.append((f"MLPerf Tiny {name}", LoadedModel(parse_tflite(data), data, f"{name}.tflite")))
    for name, path in trained_int8_models():
        found.append((name, load_model(path)))
    return found


def main() -> None:
    rows = [
        "| model | tinygen arena | lower bound | TFLM arena | tinygen / TFLM | tinygen / bound "
        "| strategy, in-place layers |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, model in models():
        compiled = compile_model(model)
        plan = compiled.plan
        tflm = tflm_arena_bytes(model.tflite_bytes)
        in_place = sum(1 for layer in compiled.lowered.layers if layer.in_place)
        rows.append(
            f"| {name} | {plan.arena_bytes:,} | {plan.lower_bound_bytes:,} | {tflm:,} | "
            f"{plan.arena_bytes / tflm:.2f}x | {plan.arena_bytes / plan.lower_bound_bytes:.2f}x | "
            f"{plan.strategy}, {in_place} |"
        )
        print(rows[-1])
    write_section(
        "memory",
        "## SRAM: planned arena\n\n"
        "Bytes of the one static arena (activations and scratch), against tflite-micro's recorded arena "
        "total for the same model and against the lower bound (the largest set of tensors and kernel "
        "scratch alive at one layer, without in-place execution). Below 1.00x of the bound means in-place execution "
        "(TinyEngine-style depthwise, ring-buffered convolution, element-wise ops) beat it. "
        "Convolutions hold two int16 im2col columns in scratch (tg_conv_s8: 16 bytes per four window "
        "values, plus a staging row where window rows straddle groups of four); where such a layer is the "
        "peak the arena grew with the blocked kernels: ds_cnn by 160 bytes (its first layer, a 10x4 window "
        "over one channel, takes 164), mobilenet_v1_025 by 32 (the 8-channel pointwise layer 2), resnet8 "
        "by 64 (the in-place 3x3 layer 2: its ring went from 3 input rows to 2, 1,536 to 1,024 bytes, and "
        "576 bytes of columns came), basic_motions by 512 and digits_cnn by 288 (windows of 224 and 72 "
        "values); before them the arenas were 8,512, 55,296, 34,304, 768, 1,600 and 1,536 bytes. "
        "Regenerate: `python3 benchmarks/memory.py`.\n\n" + "\n".join(rows),
    )


if __name__ == "__main__":
    main()
