"""tinygen's int8 quantizer against TensorFlow's converter, on trained models (not a test): the
digits example (examples/digits) and the BasicMotions fixture (tests/fixtures/train_models.py).

Both quantize the same float Keras model with the same calibration set (the training split);
both int8 models run in tflite-micro on the held-out split. Needs TensorFlow and
scikit-learn (pip install 'tinygen[dev]'). Run from the repository root:

    python benchmarks/quantizer_vs_tf.py          # writes its section of BENCHMARKS.md
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402
from tests.quant_models import run_tflm  # noqa: E402
from tinygen.compiler.pipeline import read_model  # noqa: E402
from tinygen.frontends.tflite_reader import parse_tflite  # noqa: E402
from tinygen.quantize import CalibrationData, parameter_bytes, quantize  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
DIGITS = ROOT / "examples" / "digits"


def digits_keras(folder: Path) -> Path:
    """The digits example's Keras model, trained again by its train.py (deterministic), saved in folder.
    Checked to convert to the committed digits_float.tflite, so both quantizers start from that model."""
    import tensorflow as tf

    spec = importlib.util.spec_from_file_location("digits_train", DIGITS / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    model = train.trained(tf, train.data())
    if tf.lite.TFLiteConverter.from_keras_model(model).convert() != (DIGITS / "digits_float.tflite").read_bytes():
        raise SystemExit("examples/digits/train.py no longer trains digits_float.tflite: run it first")
    model.save(folder / "digits.keras")
    return folder / "digits.keras"


def cases(folder: Path) -> dict[str, tuple[Path, tuple[np.ndarray, ...]]]:
    """name -> (Keras model, (x_train, y_train, x_test, y_test))."""
    motions = np.load(FIXTURES / "basic_motions.npz")
    with np.load(DIGITS / "calibration.npz") as train, np.load(DIGITS / "test.npz") as test:
        digits = (train["x"], train["y"], test["x"], test["y"])
    return {
        "digits": (digits_keras(folder), digits),  # first: Keras names its layers by how many came before
        "basic_motions": (
            FIXTURES / "basic_motions.keras",
            (motions["x"], motions["y"], motions["x_test"], motions["y_test"]),
        ),
    }


def tf_int8(keras_path: Path, x_calibration: np.ndarray) -> bytes:
    """TensorFlow's full-int8 post-training quantization, int8 inputs and outputs."""
    import tensorflow as tf

    model = tf.keras.models.load_model(keras_path, compile=False)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None]] for x in x_calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def outputs(tflite_bytes: bytes, x: np.ndarray) -> np.ndarray:
    return run_tflm(tflite_bytes, parse_tflite(tflite_bytes), x).reshape(len(x), -1)


def row(name: str, keras_path: Path, x_train, y_train, x_test, y_test) -> str:
    model = read_model(keras_path)  # tinygen's Keras path: TF converts to float only
    ours = {
        method: quantize(model.graph, CalibrationData(x_train), method).tflite_bytes
        for method in ("minmax", "percentile", "mse")
    }
    theirs = tf_int8(keras_path, x_train)
    reference = outputs(model.tflite_bytes, x_test)

    def accuracy(tflite_bytes: bytes) -> str:
        return f"{np.mean(outputs(tflite_bytes, x_test).argmax(-1) == y_test):.2%}"

    def sqnr(tflite_bytes: bytes) -> str:
        noise = np.sum((outputs(tflite_bytes, x_test) - reference) ** 2)
        return f"{10 * np.log10(np.sum(reference**2) / noise):.1f}"

    sizes = f"{parameter_bytes(model.graph):,} -> {parameter_bytes(parse_tflite(ours['minmax'])):,}"
    return (
        f"| {name} | {len(x_test)} | {accuracy(model.tflite_bytes)} | "
        f"{' | '.join(accuracy(b) for b in ours.values())} | {accuracy(theirs)} | "
        f"{sqnr(ours['minmax'])} / {sqnr(theirs)} | {sizes} |"
    )


def main() -> None:
    rows = [
        "| model | test samples | float | tinygen int8 (minmax) | tinygen int8 (percentile) | tinygen int8 (mse) "
        "| TensorFlow int8 | output SQNR vs float, dB: tinygen minmax / TF | parameter bytes float -> int8 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, (keras_path, split) in cases(Path(folder)).items():
            rows.append(row(name, keras_path, *split))
            print(rows[-1])
    write_section(
        "quantizer",
        "## Quantizer: tinygen int8 against TensorFlow's converter\n\n"
        "Top-1 accuracy on the held-out split, all models run in tflite-micro. Both quantizers get the "
        "same float Keras model and the same calibration set (the training split: 1,347 digits, 40 "
        "BasicMotions recordings); TensorFlow's is full-int8 post-training quantization with int8 I/O. "
        "Output SQNR compares the dequantized int8 softmax outputs with the float model's. Parameter "
        "bytes: weights and biases. Models and data: examples/digits and tests/fixtures/train_models.py. "
        "Regenerate (needs the `dev` extra): `python3 benchmarks/quantizer_vs_tf.py`.\n\n" + "\n".join(rows),
    )


if __name__ == "__main__":
    main()
