"""The references verify compares against: the tflite-micro interpreter (the `verify` extra, Linux
x86_64 wheels only) and, where it cannot be imported, tinygen's numpy reference (tinygen/specref),
an independent implementation of the same numerics that CI checks against tflite-micro."""

from __future__ import annotations

import faulthandler
import multiprocessing
import signal

import numpy as np

from .errors import TinygenError, ToolError
from .ir import Graph
from .ops import op_def

REFERENCES = ("auto", "tflite-micro", "numpy")
INSTALL_HINT = (
    "the reference interpreter tflite-micro is not installed (it has Linux x86_64 wheels only): "
    "in a clone of tinygen, pip install -e '.[verify]'; or use --reference numpy"
)


def _runtime():
    try:
        from tflite_micro import runtime
    except ImportError as e:
        raise ToolError(INSTALL_HINT) from e
    return runtime


def tflite_micro_available() -> bool:
    try:
        _runtime()
    except ToolError:
        return False
    return True


def open_reference(tflite_bytes: bytes, graph: Graph, name: str = "the model", choice: str = "auto"):
    """The reference to compare with: tflite-micro where it can be imported (or where asked for), else
    the numpy reference. Both have run, run_many and tensors, and a `label` naming them."""
    if choice not in REFERENCES:
        raise TinygenError(f"unknown reference '{choice}' (choose one of {', '.join(REFERENCES)})")
    if choice == "numpy" or (choice == "auto" and not tflite_micro_available()):
        from .specref import NumpyReference

        return NumpyReference(graph, name)
    return Reference(tflite_bytes, graph, name)


class Reference:
    """Runs a .tflite model in tflite-micro. Each run happens in a child process (forked, so cheap):
    a model that crashes the interpreter ends that process, never tinygen, and becomes one line."""

    label = "tflite-micro"

    def __init__(self, tflite_bytes: bytes, graph: Graph, name: str = "the model", timeout_s: float = 600) -> None:
        _runtime()  # a clear message now if the extra is missing
        _check_reference_can_run(graph)
        self.tflite_bytes, self.graph, self.name, self.timeout_s = tflite_bytes, graph, name, timeout_s

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        return self.run_many([sample])[0]

    def run_many(self, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        """The outputs for each sample, run as one sequence by a fresh interpreter (a model with state
        carries it from one sample to the next)."""
        return self.run_sequences([samples])[0]

    def run_sequences(self, sequences: list[list[list[np.ndarray]]]) -> list[list[list[np.ndarray]]]:
        """The outputs of every step of each sequence, each sequence from a fresh interpreter."""
        outputs, _ = self._in_child(sequences, tensors=())
        return outputs

    def tensors(self, samples: list[list[np.ndarray]], indices: list[int]) -> dict[int, np.ndarray]:
        """Intermediate tensors after running the samples as one sequence (every tensor preserved)."""
        for index in indices:
            if not 0 <= index < len(self.graph.tensors):
                raise IndexError(index)  # an out-of-range index crashes the interpreter
        _, values = self._in_child([samples], tensors=tuple(indices))
        return values

    def _in_child(self, sequences, tensors):
        context = multiprocessing.get_context("fork")  # tflite-micro has Linux wheels only
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_serve, args=(sender, self.tflite_bytes, self.graph, sequences, tensors))
        child.start()
        sender.close()
        try:
            if not receiver.poll(self.timeout_s):
                child.kill()
                raise ToolError(f"tflite-micro did not finish {self.name} within {self.timeout_s:g} s")
            status, *result = receiver.recv()
        except EOFError:  # the child died without a word: the interpreter crashed
            child.join()
            raise ToolError(
                f"tflite-micro crashed on {self.name} ({_death(child.exitcode)}); tinygen cannot verify this model"
            ) from None
        finally:
            receiver.close()
            child.join()
        if status == "error":
            raise TinygenError(f"tflite-micro refused {self.name}: {result[0]}")
        return result


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


def _serve(sender, tflite_bytes: bytes, graph: Graph, sequences, tensors) -> None:
    """In the child: run each sequence in a new interpreter and send back ("ok", outputs per sequence,
    tensors after the last step) or ("error", message). A new interpreter rather than reset(): after
    reset(), tflite-micro does not run a CALL_ONCE initialisation again."""
    faulthandler.disable()  # a crash here is expected and reported by the parent in one line
    runtime = _runtime()
    try:
        # Generous: with every tensor preserved, the arena holds all of them at once.
        arena = 4 * sum(t.nbytes for t in graph.tensors if not t.is_constant) + (1 << 20)
        config = (
            runtime.InterpreterConfig.kPreserveAllTensors if tensors else runtime.InterpreterConfig.kAllocationRecording
        )
        outputs = []
        for samples in sequences:
            interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=arena, intrepreter_config=config)
            steps = []
            for sample in samples:
                for i, (index, value) in enumerate(zip(graph.inputs, sample)):
                    interpreter.set_input(np.asarray(value).reshape(graph.tensor(index).shape), i)
                interpreter.invoke()
                steps.append([np.array(interpreter.get_output(i)) for i in range(len(graph.outputs))])
            outputs.append(steps)
        values = {i: np.array(interpreter.GetTensor(i, 0)["tensor_data"]) for i in tensors}
        sender.send(("ok", outputs, values))
    except (RuntimeError, ValueError) as e:
        sender.send(("error", str(e).strip() or type(e).__name__))
    finally:
        sender.close()


def _check_reference_can_run(graph: Graph) -> None:
    """Refuse what is known to crash the interpreter's process instead of raising (each op's record knows)."""
    for op in graph.ops:
        record = op_def(op.kind)
        reason = record.reference_guard(op, graph) if record and record.reference_guard else None
        if reason:
            raise TinygenError(f"op {op.index} ({op.kind}) {reason}, so it cannot be verified")
