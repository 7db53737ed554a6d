"""The compiler's stages chained: model file -> Graph -> layers -> plan -> C sources."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .codegen import GeneratedModel, generate
from .errors import TinygenError
from .frontends.tflite_reader import parse_tflite
from .ir import Graph
from .layer import LoweredModel
from .lower import lower
from .memory import MemoryPlan, plan_memory


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


def compile_model(model: LoadedModel) -> CompiledModel:
    lowered = lower(model.graph)
    plan = plan_memory(lowered)
    generated = generate(lowered, plan, model.source, model.model_hash)
    return CompiledModel(model, lowered, plan, generated)
