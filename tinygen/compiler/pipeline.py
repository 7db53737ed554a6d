"""The compiler's stages chained: model file -> Graph -> layers -> plan -> C sources."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..boards import Board
from ..errors import TinygenError
from ..frontends.tflite_reader import parse_tflite
from ..ir import Graph
from .codegen import GeneratedModel, generate
from .control_flow import resolve_control_flow
from .costs import CostModel
from .fold import fold_constants
from .inplace import alias_elementwise
from .islands import fuse_float_islands
from .layer import LoweredModel
from .lower import lower
from .memory import MemoryPlan, plan_memory
from .optimize import Choice, choose_variants
from .schedule import schedule
from .validate import validate


@dataclass
class LoadedModel:
    graph: Graph
    tflite_bytes: bytes  # what the reference interpreter runs
    source: str

    @property
    def model_hash(self) -> str:
        """Identifies the model on a device: the first 16 hex digits of the file's SHA-256."""
        return hashlib.sha256(self.tflite_bytes).hexdigest()[:16]


@dataclass
class CompiledModel:
    model: LoadedModel
    lowered: LoweredModel
    plan: MemoryPlan
    generated: GeneratedModel
    choice: Choice  # which variant each layer runs, and why (optimize.py)


def load_model(path: str | Path) -> LoadedModel:
    path = Path(path)
    if not path.exists():
        raise TinygenError(f"{path} does not exist")
    if path.suffix.lower() not in (".tflite", ""):
        raise TinygenError(f"{path}: unknown model format {path.suffix!r}; tinygen reads .tflite files")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TinygenError(f"cannot read {path}: {e.strerror}") from e
    return LoadedModel(parse_tflite(data, name=str(path)), data, str(path))


# The compiler's passes, in order: on the graph, then on its lowered layers.
GRAPH_PASSES: tuple[tuple[str, Callable[[Graph], Graph]], ...] = (
    ("control flow", resolve_control_flow),  # WHILE loops unrolled, IF inlined: one graph
    ("validate", validate),  # what every later pass relies on: sizes, quantization, arity, data flow
    ("float islands", fuse_float_islands),  # int8 -> float ops -> int8 chains become one table
    ("fold constants", fold_constants),  # what the compiler can evaluate costs nothing on the device
)
LAYER_PASSES: tuple[tuple[str, Callable[[LoweredModel], LoweredModel]], ...] = (
    ("schedule", schedule),  # execution order with the smallest peak of live bytes
    ("in-place", alias_elementwise),  # element-wise outputs over inputs dying at their op
)


def compile_model(
    model: LoadedModel, board: Board | None = None, optimize: str = "balanced", costs: CostModel | None = None
) -> CompiledModel:
    """Graph passes -> lowering (each op through its record) -> layer passes -> the variant choice
    (the fewest estimated instructions whose arena fits the board: optimize.py) -> memory plan -> C sources."""
    graph = model.graph
    for _, graph_pass in GRAPH_PASSES:
        graph = graph_pass(graph)
    lowered = lower(graph)
    for _, layer_pass in LAYER_PASSES:
        lowered = layer_pass(lowered)
    lowered, choice = choose_variants(lowered, optimize, board, costs)
    plan = plan_memory(lowered)
    generated = generate(lowered, plan, model.source, model.model_hash)
    return CompiledModel(model, lowered, plan, generated, choice)


def read_model(path: str | Path) -> LoadedModel:
    """A .tflite file as it is, or a Keras model converted to float TFLite (needs TensorFlow); validated,
    since what comes next (the quantizer, or the float islands test) relies on the same facts as the
    compiler's passes."""
    from ..frontends.keras import KERAS_SUFFIXES, keras_to_tflite

    path = Path(path)
    if path.suffix.lower() not in KERAS_SUFFIXES:
        model = load_model(path)
    elif not path.exists():
        raise TinygenError(f"{path} does not exist")
    else:
        data = keras_to_tflite(path)
        model = LoadedModel(parse_tflite(data, name=str(path)), data, str(path))
    validate(model.graph)
    return model


def load_or_quantize(
    path: str | Path,
    calibration: str | Path | None = None,
    method: str = "minmax",
    per_channel: bool = True,
    float_io: bool = False,
    progress: bool = False,
) -> LoadedModel:
    """A model ready to compile: an int8 .tflite as it is; a float .tflite or a Keras model
    quantized on the way with the calibration inputs (see tinygen.quantize)."""
    from ..quantize import is_float_graph, load_calibration, quantize

    model = read_model(path)
    if not is_float_graph(model.graph):
        return model
    if calibration is None:
        raise TinygenError(
            f"{path} is a float model; pass --calibration DATA.npy|.npz (sample inputs, N x input "
            "shape) to quantize it to int8 on the way, or run `tinygen quantize` first"
        )
    result = quantize(
        model.graph, load_calibration(calibration, model.graph), method, per_channel, float_io, progress=progress
    )
    return LoadedModel(result.graph, result.tflite_bytes, str(path))
