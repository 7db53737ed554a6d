"""The four MLPerf Tiny architectures, end to end on the host, against tflite-micro."""

import pytest

from tinygen import zoo

from .bitexact import assert_bit_exact


@pytest.mark.parametrize("name", sorted(zoo.MLPERF_TINY))
def test_mlperf_tiny_bit_exact(name):
    graph = zoo.MLPERF_TINY[name](seed=1)
    result = assert_bit_exact(graph, samples=8)
    assert result.samples == 8
