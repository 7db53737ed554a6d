"""verify must be able to fail: a deliberately wrong layer is caught and named."""

import dataclasses

import pytest

from tinygen import zoo
from tinygen.compiler.codegen import generate
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.host import HostTarget
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.verify import random_samples, verify


@pytest.mark.parametrize("reference", ["tflite-micro", "numpy"])
def test_a_wrong_layer_is_caught_and_named(tmp_path, reference):
    data = write_tflite(zoo.ds_cnn(seed=2))
    model = LoadedModel(parse_tflite(data), data, "ds_cnn.tflite")
    compiled = compile_model(model)
    layers = list(compiled.lowered.layers)
    # Shift the output zero point of the third convolution by one: a one-off, the typical bug.
    position = [i for i, layer in enumerate(layers) if layer.op.kind == "CONV_2D"][2]
    bad = layers[position]
    layers[position] = dataclasses.replace(
        bad, params=dataclasses.replace(bad.params, output_offset=bad.params.output_offset + 1)
    )
    lowered = dataclasses.replace(compiled.lowered, layers=layers)
    broken = dataclasses.replace(
        compiled, lowered=lowered, generated=generate(lowered, compiled.plan, model.source, model.model_hash)
    )
    with HostTarget.build(broken, tmp_path) as target:
        result = verify(target, broken, random_samples(model.graph, 4, seed=0), reference=reference)
    assert not result.bit_exact and result.mismatches > 0 and result.reference == reference
    assert result.first_bad_layer == f"layer {bad.op.index} (CONV_2D)"
    assert "NOT bit-exact" in result.summary() and result.as_json()["bit_exact"] is False


def test_the_untouched_model_is_bit_exact(tmp_path):
    data = write_tflite(zoo.ds_cnn(seed=2))
    model = LoadedModel(parse_tflite(data), data, "ds_cnn.tflite")
    compiled = compile_model(model)
    with HostTarget.build(compiled, tmp_path) as target:
        result = verify(target, compiled, random_samples(model.graph, 4, seed=0))
    assert result.bit_exact and result.first_bad_layer is None
