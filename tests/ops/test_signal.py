"""The audio front end up to the power spectrum against tflite-micro: SignalWindow,
SignalFftAutoScale, SignalRfft (every radix KISS FFT has a butterfly for) and SignalEnergy, alone
and chained as tflite-micro's audio preprocessor chains them, on swept tones; and each refusal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.ops.rfft import kiss_factors

from ..audio import frames
from ..bitexact import assert_bit_exact

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
INT16 = 7  # TFLite's TensorType code, the SignalRfft "T" option


def window_model(rng, frame: int, tiles: int, shift: int):
    g = GraphBuilder()
    x = g.tensor((1, frame * tiles), "int16")
    w = g.const(rng.integers(-32768, 32768, frame), "int16")
    y = g.tensor((1, frame * tiles), "int16")
    g.op("CUSTOM:SignalWindow", [x, w], [y], shift=shift)
    return g.build([x], [y])


@SETTINGS
@given(seed=st.integers(0, 2**31), frame=st.integers(1, 40), tiles=st.integers(1, 3), shift=st.integers(0, 31))
def test_window(seed, frame, tiles, shift):
    rng = np.random.default_rng(seed)
    graph = window_model(rng, frame, tiles, shift)
    assert_bit_exact(graph, inputs=frames(frame * tiles, 6, seed, shape=(1, frame * tiles)))


@SETTINGS
@given(seed=st.integers(0, 2**31), size=st.integers(1, 300))
def test_fft_auto_scale(seed, size):
    g = GraphBuilder()
    x = g.tensor((size,), "int16")
    y, bits = g.tensor((size,), "int16"), g.tensor((), "int32")
    g.op("CUSTOM:SignalFftAutoScale", [x], [y, bits])
    samples = frames(size, 10, seed)
    samples[3][0][:] = -32768  # the largest magnitude, as int16, is -32768 itself
    samples[4][0][0] = -32768  # ... and then whatever comes next
    assert_bit_exact(g.build([x], [y, bits]), inputs=samples)


def rfft_model(fft_length: int, shape: tuple[int, ...]):
    g = GraphBuilder()
    x = g.tensor(shape, "int16")
    y = g.tensor((*shape[:-1], fft_length + 2), "int16")
    g.op("CUSTOM:SignalRfft", [x], [y], T=INT16, fft_length=fft_length)
    return g.build([x], [y])


# Powers of two (radix 4 and 2), and lengths whose half needs the radix-3 and radix-5 butterflies.
FFT_LENGTHS = [4, 8, 16, 64, 128, 512, 2048, 6, 12, 20, 24, 30, 40, 60, 100, 480]


@pytest.mark.parametrize("fft_length", FFT_LENGTHS)
def test_rfft(fft_length):
    samples = frames(fft_length, 8, seed=fft_length)
    assert_bit_exact(rfft_model(fft_length, (fft_length,)), inputs=samples)


def test_rfft_pads_short_rows_and_transforms_each_row():
    length, rows = 27, 3
    samples = [[np.stack([f[0] for f in frames(length, rows, seed)])[None]] for seed in range(6)]
    assert_bit_exact(rfft_model(64, (1, rows, length)), inputs=samples)


def test_kiss_fft_factors_as_kiss_fft_does():
    assert kiss_factors(256) == [(4, 64), (4, 16), (4, 4), (4, 1)]
    assert kiss_factors(128) == [(4, 32), (4, 8), (4, 2), (2, 1)]
    assert kiss_factors(240) == [(4, 60), (4, 15), (3, 5), (5, 1)]
    assert kiss_factors(50) == [(2, 25), (5, 5), (5, 1)]


@SETTINGS
@given(seed=st.integers(0, 2**31), bins=st.integers(1, 80), data=st.data())
def test_energy(seed, bins, data):
    start = data.draw(st.integers(0, bins - 1))
    end = data.draw(st.integers(start + 1, bins))
    g = GraphBuilder()
    x = g.tensor((2 * bins,), "int16")
    y = g.tensor((bins,), "uint32")
    g.op("CUSTOM:SignalEnergy", [x], [y], start_index=start, end_index=end)
    samples = frames(2 * bins, 6, seed)
    samples[0][0][:2] = -32768  # |(-32768, -32768)|^2 = 2^31
    if start == 0 and end == bins:  # tflite-micro leaves the bins outside the range as they were
        assert_bit_exact(g.build([x], [y]), inputs=samples)
    else:
        assert_bit_exact(_energy_then_slice(bins, start, end), inputs=samples)


def _energy_then_slice(bins: int, start: int, end: int):
    """Energy over [start, end) and the model's output only those bins, as the audio preprocessor
    takes them."""
    g = GraphBuilder()
    x = g.tensor((2 * bins,), "int16")
    energy = g.tensor((bins,), "uint32")
    g.op("CUSTOM:SignalEnergy", [x], [energy], start_index=start, end_index=end)
    as_int = g.tensor((bins,), "int32")
    g.op("CAST", [energy], [as_int], in_data_type="uint32", out_data_type="int32")
    y = g.tensor((end - start,), "int32")
    begin, stop, stride = (g.const(np.array([v], np.int32), "int32") for v in (start, end, 1))
    g.op("STRIDED_SLICE", [as_int, begin, stop, stride], [y], begin_mask=0, end_mask=0, shrink_axis_mask=0)
    return g.build([x], [y])


def test_the_preprocessors_front_half():
    """Window, auto scale, FFT and energy as tflite-micro's audio preprocessor chains them."""
    rng = np.random.default_rng(7)
    g = GraphBuilder()
    audio = g.tensor((1, 480), "int16")
    hann = np.round(4096 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(480) / 480)))
    windowed = g.tensor((1, 480), "int16")
    g.op("CUSTOM:SignalWindow", [audio, g.const(hann, "int16")], [windowed], shift=12)
    flat = g.tensor((480,), "int16")
    g.op("RESHAPE", [windowed, g.const(np.array([-1], np.int32), "int32")], [flat])
    scaled, bits = g.tensor((480,), "int16"), g.tensor((), "int32")
    g.op("CUSTOM:SignalFftAutoScale", [flat], [scaled, bits])
    spectrum = g.tensor((514,), "int16")
    g.op("CUSTOM:SignalRfft", [scaled], [spectrum], T=INT16, fft_length=512)
    energy = g.tensor((257,), "uint32")
    g.op("CUSTOM:SignalEnergy", [spectrum], [energy], start_index=0, end_index=257)
    assert_bit_exact(g.build([audio], [energy, bits]), inputs=frames(480, 12, int(rng.integers(1000)), (1, 480)))


def _refused(build, message):
    g = GraphBuilder()
    x, y = build(g)
    with pytest.raises(TinygenError, match=message):
        lower(g.build([x], [y]))


def _window(shift=12, frame=8, window=8, out=8):
    def build(g):
        x, y = g.tensor((frame,), "int16"), g.tensor((out,), "int16")
        g.op("CUSTOM:SignalWindow", [x, g.const(np.ones(window), "int16")], [y], shift=shift)
        return x, y

    return build


def _rfft(fft_length=16, t=INT16, n=16, out=18):
    def build(g):
        x, y = g.tensor((n,), "int16"), g.tensor((out,), "int16")
        g.op("CUSTOM:SignalRfft", [x], [y], T=t, fft_length=fft_length)
        return x, y

    return build


def _energy(start=0, end=8, out=8):
    def build(g):
        x, y = g.tensor((16,), "int16"), g.tensor((out,), "uint32")
        g.op("CUSTOM:SignalEnergy", [x], [y], start_index=start, end_index=end)
        return x, y

    return build


@pytest.mark.parametrize(
    "build, message",
    [
        (_window(shift=32), r"option shift is 32; it must be in 0\.\.31"),
        (_window(shift=-1), "option shift is -1"),
        (_window(frame=12, out=12), "the window's 8 weights do not tile the input's 12 samples"),
        (_window(out=9), r"output shape \(9,\) differs"),
        (_rfft(fft_length=15), "fft_length 15 is odd"),
        (_rfft(fft_length=14, n=14, out=16), "needs a radix-7 stage"),
        (_rfft(fft_length=2, n=2, out=4), r"option fft_length is 2; it must be in 4\.\.4096"),
        (_rfft(t=9), "tinygen runs the int16 FFT only"),
        (_rfft(n=17), "rows of 17 samples do not fit fft_length 16"),
        (_rfft(out=16), "gives rows of 9 complex bins"),
        (_energy(end=9), r"option end_index is 9; it must be in 0\.\.8"),
        (_energy(start=-1), "option start_index is -1"),
        (_energy(out=4, end=5), r"end_index is 5; it must be in 0\.\.4"),
    ],
)
def test_refusals(build, message):
    _refused(build, message)


def test_wrong_types_are_refused():
    g = GraphBuilder()
    x, y = g.tensor((8,), "int16"), g.tensor((8,), "int32")
    g.op("CUSTOM:SignalEnergy", [x], [y], start_index=0, end_index=4)
    with pytest.raises(TinygenError, match="tensor t1 is int32; tflite-micro's kernel takes uint32"):
        lower(g.build([x], [y]))
