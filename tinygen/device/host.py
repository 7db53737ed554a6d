"""The host target: compile the generated C with the host compiler and run it on samples."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .. import activity
from ..compiler.codegen import GeneratedModel
from ..compiler.pipeline import CompiledModel
from ..errors import ToolError
from ..ir import NUMPY_DTYPES, Graph
from ..resources import render, resource_dir
from . import processes
from .cflags import WARNINGS
from .pio.core import cache_dir
from .target import Sample, Target

SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]
COMPILE_TIMEOUT_S = 600
HARNESS = "tg_host_main.c"


def host_compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise ToolError("no host C compiler found: install gcc or clang, or set CC")
    return cc


def build_host(generated: GeneratedModel, directory: Path, sanitize: bool = False) -> Path:
    """Write the sources and the harness into directory and compile them; returns the executable."""
    generated.write(directory)
    harness = resource_dir("firmware") / "host" / HARNESS
    shutil.copyfile(harness, directory / HARNESS)
    sources = sorted([*(n for n in {**generated.kernel_files, **generated.files} if n.endswith(".c")), HARNESS])
    # The project rebuilds without tinygen too: `make` in it (the sources are tinygen's own names). No
    # -Werror there: another compiler's new warning should not stop a user's build.
    warnings = [flag for flag in WARNINGS if flag != "-Werror"]
    (directory / "Makefile").write_text(render("Makefile.j2", sources=sources, warnings=warnings), encoding="utf-8")
    binary = directory / ("model_host.exe" if os.name == "nt" else "model_host")
    flags = ["-std=c99", "-O2", *WARNINGS, *(SANITIZERS if sanitize else []), "-I."]
    with activity.step("compiling the model for the host") as step:
        objects = _kernel_objects(generated.kernel_files, flags, directory, step.note)
        own = [name for name in sources if name not in generated.kernel_files]  # the model and the harness
        command = [*shlex.split(host_compiler()), *flags, *own, *map(str, objects), "-o", binary.name, "-lm"]
        _compile(command, directory, step.note)
    return binary


def _compile(command: list[str], directory: Path, on_line) -> None:
    result = processes.run(command, COMPILE_TIMEOUT_S, "the host compiler", cwd=directory, on_line=on_line)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        first = next((line for line in stderr.splitlines() if "error" in line), stderr.strip())
        raise ToolError(f"host compile failed in {directory}: {first}")


def _kernel_objects(kernel_files: dict[str, str], flags: list[str], directory: Path, on_line) -> list[Path]:
    """The runtime's .c files compiled once per compiler, flags and source text, and kept in the cache:
    they are the same for every model (the model's own files are not among them), and compiling them
    is most of a host build."""
    compiler = shlex.split(host_compiler())
    headers = sorted((name, text) for name, text in kernel_files.items() if name.endswith(".h"))
    cache = cache_dir() / "host-objects"
    cache.mkdir(parents=True, exist_ok=True)
    objects = []
    for name, text in sorted(kernel_files.items()):
        if not name.endswith(".c"):
            continue
        identity = json.dumps([compiler, _compiler_version(tuple(compiler)), flags, name, text, headers])
        obj = cache / f"{Path(name).stem}-{hashlib.sha256(identity.encode()).hexdigest()[:20]}.o"
        if not obj.exists():
            # compiled beside the sources, then moved into the cache whole (two builds may race)
            fd, partial = tempfile.mkstemp(suffix=".o", dir=cache)
            os.close(fd)
            try:
                _compile([*compiler, *flags, "-c", name, "-o", partial], directory, on_line)
                os.replace(partial, obj)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
        objects.append(obj)
    return objects


@functools.cache
def _compiler_version(compiler: tuple[str, ...]) -> str:
    """What the compiler says it is: a new compiler at the same path does not reuse old objects."""
    try:
        return subprocess.run([*compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


class HostTarget(Target):
    """A compiled host binary: all samples go through one process (started afresh for each run, so
    from the initial state), and layers can be traced."""

    name = "host"

    def __init__(self, binary: Path, graph: Graph, traced_layers: list[int] | None = None) -> None:
        self.binary = binary
        self.graph = graph
        # op indices of the layers that run and have an output, in execution order (an ASSIGN_VARIABLE
        # has none: the harness writes nothing for it)
        self.traced_layers = traced_layers or []

    @classmethod
    def build(cls, compiled: CompiledModel, directory: Path, sanitize: bool = False) -> HostTarget:
        """Compile the model for the host in directory; every layer that runs can be traced."""
        binary = build_host(compiled.generated, directory, sanitize=sanitize)
        traced = [layer.op.index for layer in compiled.lowered.layers if layer.kernel and layer.op.outputs]
        return cls(binary, compiled.model.graph, traced)

    def run(self, samples: list[Sample], progress: bool = False) -> list[Sample]:
        return self._run(samples, trace=False)[0]

    def run_sequences(self, sequences: list[list[Sample]], progress: bool = False) -> list[list[Sample]]:
        """Sequences of one length go through one process, which resets the state between them."""
        steps = {len(sequence) for sequence in sequences}
        if len(steps) != 1 or not min(steps):
            return super().run_sequences(sequences, progress)
        (length,) = steps
        outputs = self._run([sample for sequence in sequences for sample in sequence], trace=False, steps=length)[0]
        return [outputs[i : i + length] for i in range(0, len(outputs), length)]

    def trace(self, samples: list[Sample]) -> list[np.ndarray] | None:
        if not self.traced_layers:
            return None
        return self._run(samples, trace=True)[1][-1]

    def _run(self, samples: list[Sample], trace: bool, steps: int | None = None, timeout_s: float = 600):
        inputs = [self.graph.tensor(i) for i in self.graph.inputs]
        payload = bytearray()
        for sample in samples:
            for tensor, value in zip(inputs, sample):
                payload += np.ascontiguousarray(value, dtype=NUMPY_DTYPES[tensor.dtype]).tobytes()
        command = [str(self.binary), *(["--trace"] if trace else []), *(["--steps", str(steps)] if steps else [])]
        result = processes.run(command, timeout_s, "the host model", input=bytes(payload))
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip().splitlines()
            raise ToolError(f"the host model failed (exit {result.returncode}): {message[0] if message else ''}")
        return self._parse(result.stdout, len(samples), trace)

    def _parse(self, data: bytes, count: int, trace: bool) -> tuple[list[Sample], list[list[np.ndarray]]]:
        outputs, traces, pos = [], [], 0

        def take(index: int) -> np.ndarray:
            nonlocal pos
            t = self.graph.tensor(index)
            value = np.frombuffer(data, dtype=NUMPY_DTYPES[t.dtype], count=t.size, offset=pos).reshape(t.shape)
            pos += t.nbytes
            return value

        for _ in range(count):
            if trace:
                traces.append([take(self.graph.op_by_index(layer).outputs[0]) for layer in self.traced_layers])
            outputs.append([take(i) for i in self.graph.outputs])
        return outputs, traces
