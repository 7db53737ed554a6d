"""The audio front end after the power spectrum against tflite-micro: SignalFilterBank (random bands
and the mel bands of tflite-micro's preprocessor), SignalFilterBankSquareRoot, SignalPCAN and
SignalFilterBankLog on values of every magnitude; and each refusal."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import load_model
from tinygen.errors import TinygenError

from ..audio import uint32_values
from ..bitexact import assert_bit_exact

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
PREPROCESSOR = Path(__file__).parent.parent / "corpus" / "tflite-micro" / "audio_preprocessor_int8.tflite"


def preprocessor_constant(name: str) -> np.ndarray:
    graph = load_model(PREPROCESSOR).graph
    return next(t.data for t in graph.tensors if t.name == name)


def filter_bank_model(bins: int, channels: int, tables: list[np.ndarray]):
    g = GraphBuilder()
    x = g.tensor((bins,), "uint32")
    y = g.tensor((channels,), "uint64")
    g.op("CUSTOM:SignalFilterBank", [x, *(g.const(t, "int16") for t in tables)], [y], num_channels=channels)
    return g.build([x], [y])


def random_bands(rng, bins: int, channels: int, taps: int) -> list[np.ndarray]:
    widths = rng.integers(0, min(bins, taps, 12) + 1, channels + 1)
    frequency_starts = [rng.integers(0, bins - w + 1) for w in widths]
    weight_starts = [rng.integers(0, taps - w + 1) for w in widths]
    weights, unweights = (rng.integers(-32768, 32768, taps) for _ in range(2))
    return [weights, unweights, np.array(frequency_starts), np.array(weight_starts), widths]


@SETTINGS
@given(seed=st.integers(0, 2**31), bins=st.integers(1, 64), channels=st.integers(1, 12), taps=st.integers(1, 40))
def test_filter_bank(seed, bins, channels, taps):
    rng = np.random.default_rng(seed)
    graph = filter_bank_model(bins, channels, random_bands(rng, bins, channels, taps))
    assert_bit_exact(graph, inputs=[[uint32_values(rng, bins)] for _ in range(6)])


def test_filter_bank_with_the_preprocessors_mel_bands():
    names = [f"signal_filter_bank/Const{suffix}" for suffix in ("", "_1", "_2", "_3", "_4")]
    graph = filter_bank_model(257, 40, [preprocessor_constant(n) for n in names])
    rng = np.random.default_rng(3)
    samples = [[uint32_values(rng, 257) >> np.uint32(rng.integers(0, 8))] for _ in range(8)]
    assert_bit_exact(graph, inputs=samples)


@SETTINGS
@given(seed=st.integers(0, 2**31), channels=st.integers(1, 64))
def test_square_root(seed, channels):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x, bits = g.tensor((channels,), "uint64"), g.tensor((), "int32")
    y = g.tensor((channels,), "uint32")
    g.op("CUSTOM:SignalFilterBankSquareRoot", [x, bits], [y])
    # Around the 32-bit path's ceiling (0xFFFF) and across 2^32, where the 64-bit path takes over.
    edges = np.array([0, 1, 2, 3, 0xFFFE0001, 0xFFFF0000, 0xFFFF0001, 2**32 - 1, 2**32, 2**64 - 1], np.uint64)
    samples = []
    for _ in range(6):
        values = rng.integers(0, 2**63, channels, dtype=np.uint64) >> rng.integers(0, 63, channels).astype(np.uint64)
        values[: min(channels, edges.size)] = edges[:channels]
        samples.append([rng.permutation(values), np.array(rng.integers(0, 20), np.int32)])
    assert_bit_exact(g.build([x, bits], [y]), inputs=samples)


def pcan_model(channels: int, lut: np.ndarray, snr_shift: int):
    g = GraphBuilder()
    x, noise = g.tensor((channels,), "uint32"), g.tensor((channels,), "uint32")
    y = g.tensor((channels,), "uint32")
    g.op("CUSTOM:SignalPCAN", [x, noise, g.const(lut, "int16")], [y], snr_shift=snr_shift)
    return g.build([x, noise], [y])


@SETTINGS
@given(seed=st.integers(0, 2**31), channels=st.integers(1, 48), snr_shift=st.integers(0, 63))
def test_pcan(seed, channels, snr_shift):
    rng = np.random.default_rng(seed)
    graph = pcan_model(channels, rng.integers(-32768, 32768, 125 + int(rng.integers(0, 3))), snr_shift)
    assert_bit_exact(graph, inputs=[[uint32_values(rng, channels), uint32_values(rng, channels)] for _ in range(6)])


def test_pcan_with_the_preprocessors_gain_table():
    rng = np.random.default_rng(4)
    graph = pcan_model(40, preprocessor_constant("signal_pcan/Const"), 6)
    samples = [[uint32_values(rng, 40) >> np.uint32(12), uint32_values(rng, 40) >> np.uint32(8)] for _ in range(8)]
    assert_bit_exact(graph, inputs=samples)


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    channels=st.integers(1, 48),
    correction_bits=st.integers(0, 31),
    output_scale=st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(0, 1024)),
)
def test_log(seed, channels, correction_bits, output_scale):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x, y = g.tensor((channels,), "uint32"), g.tensor((channels,), "int16")
    options = {"input_correction_bits": correction_bits, "output_scale": output_scale}
    g.op("CUSTOM:SignalFilterBankLog", [x], [y], **options)
    assert_bit_exact(g.build([x], [y]), inputs=[[uint32_values(rng, channels)] for _ in range(6)])


def _bank(widths=(2, 2, 2), starts=(0, 2, 4), offsets=(0, 0, 0), channels=2, out=2, bins=8, constant=True):
    def build(g):
        x, y = g.tensor((bins,), "uint32"), g.tensor((out,), "uint64")
        tables = [g.const(np.ones(4), "int16"), g.const(np.ones(4), "int16")]
        tables += [g.const(np.array(v), "int16") for v in (starts, offsets)]
        tables.append(g.const(np.array(widths), "int16") if constant else g.tensor((len(widths),), "int16"))
        g.op("CUSTOM:SignalFilterBank", [x, *tables], [y], num_channels=channels)
        return x, y

    return build


def _pcan(lut=125, snr_shift=6):
    def build(g):
        x, noise, y = (g.tensor((4,), "uint32") for _ in range(3))
        g.op("CUSTOM:SignalPCAN", [x, noise, g.const(np.zeros(lut), "int16")], [y], snr_shift=snr_shift)
        return x, y

    return build


def _log(bits=3, scale=64):
    def build(g):
        x, y = g.tensor((4,), "uint32"), g.tensor((4,), "int16")
        g.op("CUSTOM:SignalFilterBankLog", [x], [y], input_correction_bits=bits, output_scale=scale)
        return x, y

    return build


@pytest.mark.parametrize(
    "build, message",
    [
        (_bank(starts=(0, 2, 7)), "band 2 reaches outside the 8 input bins or the 4 weights"),
        (_bank(offsets=(0, 3, 0)), "band 1 reaches outside"),
        (_bank(widths=(2, -1, 2)), "band 1 reaches outside"),
        (_bank(starts=(0, -2, 4)), "band 1 reaches outside"),
        (_bank(channels=3, out=3), "the band tables need 4 entries each"),
        (_bank(out=3), "output t1 has 3 elements for 2 channels"),
        (_bank(channels=0), r"option num_channels is 0; it must be in 1\.\.2"),
        (_bank(constant=False), "filter bank index t6 must be a constant"),
        (_pcan(lut=124), "gain table t3 has 124 entries; PCAN reads 125"),
        (_pcan(snr_shift=64), r"option snr_shift is 64; it must be in 0\.\.63"),
        (_log(bits=32), r"option input_correction_bits is 32; it must be in 0\.\.31"),
        (_log(scale=2**31), "option output_scale is 2147483648"),
    ],
)
def test_refusals(build, message):
    g = GraphBuilder()
    _, y = build(g)
    inputs = [t.index for t in g.tensors if not t.is_constant and t.index != y]
    with pytest.raises(TinygenError, match=message):
        lower(g.build(inputs, [y]))


def spectral_subtraction_model(channels: int, **options):
    g = GraphBuilder()
    x = g.tensor((channels,), "uint32")
    y, noise = g.tensor((channels,), "uint32"), g.tensor((channels,), "uint32")
    g.op("CUSTOM:SignalFilterBankSpectralSubtraction", [x], [y, noise], num_channels=channels, **options)
    return g.build([x], [y, noise])


PREPROCESSOR_SUBTRACTION = {
    "smoothing": 409,
    "one_minus_smoothing": 15975,
    "alternate_smoothing": 983,
    "alternate_one_minus_smoothing": 15401,
    "min_signal_remaining": 819,
    "smoothing_bits": 10,
    "spectral_subtraction_bits": 14,
}


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    channels=st.integers(1, 40),
    clamping=st.booleans(),
    smoothing_bits=st.integers(0, 31),
    subtraction_bits=st.integers(0, 63),
)
def test_spectral_subtraction_carries_its_noise_estimate(seed, channels, clamping, smoothing_bits, subtraction_bits):
    """Sequences of invokes: each step's outputs depend on the estimate the steps before left."""
    rng = np.random.default_rng(seed)
    coefficients = {k: int(rng.integers(0, 2**31)) >> int(rng.integers(0, 31)) for k in PREPROCESSOR_SUBTRACTION}
    coefficients.update(smoothing_bits=smoothing_bits, spectral_subtraction_bits=subtraction_bits)
    graph = spectral_subtraction_model(channels, clamping=clamping, **coefficients)
    samples = [[uint32_values(rng, channels) >> np.uint32(rng.integers(0, 32))] for _ in range(12)]
    assert_bit_exact(graph, inputs=samples, steps=6)


@pytest.mark.parametrize("clamping", [False, True])
def test_spectral_subtraction_with_the_preprocessors_settings(clamping):
    rng = np.random.default_rng(5)
    graph = spectral_subtraction_model(40, clamping=clamping, **PREPROCESSOR_SUBTRACTION)
    # Quiet, then loud, then quiet again: the estimate rises above the signal, which clamping cuts.
    levels = [4] * 6 + [16] * 6 + [2] * 8
    samples = [[rng.integers(0, 2**level, 40).astype(np.uint32)] for level in levels]
    assert_bit_exact(graph, inputs=samples, steps=len(levels))


def test_spectral_subtraction_refusals():
    for options, message in [
        ({"num_channels": 41}, r"option num_channels is 41; it must be in 1\.\.40"),
        ({"smoothing_bits": 32}, r"option smoothing_bits is 32; it must be in 0\.\.31"),
        ({"spectral_subtraction_bits": 64}, r"option spectral_subtraction_bits is 64; it must be in 0\.\.63"),
        ({"smoothing": -1}, r"option smoothing is -1; it must be in 0\.\.2147483647"),
    ]:
        settings_ = {**PREPROCESSOR_SUBTRACTION, "clamping": False, **options}
        channels = settings_.pop("num_channels", 40)
        g = GraphBuilder()
        x = g.tensor((40,), "uint32")
        y, noise = g.tensor((40,), "uint32"), g.tensor((40,), "uint32")
        g.op("CUSTOM:SignalFilterBankSpectralSubtraction", [x], [y, noise], num_channels=channels, **settings_)
        with pytest.raises(TinygenError, match=message):
            lower(g.build([x], [y, noise]))
