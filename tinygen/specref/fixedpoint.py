"""gemmlowp's fixed-point functions (exp, 1/(1+x), logistic, tanh, reciprocal, inverse square root).

A fixed-point value with IB integer bits is an int32 raw r meaning r / 2^(31 - IB). Multiplying two
is SRDHM (the integer bits add up); + and - are plain int32 operations that wrap. The constants are
the Q0.31 (or Q2.29) encodings of the numbers named next to them.
"""

from __future__ import annotations

import numpy as np

from .arith import INT32_MAX, rdbp, saturating_shift, srdhm, wrap32

EXP_MINUS_EIGHTH = 1895147668  # exp(-1/8)
ONE_THIRD = 715827883
# exp(-2^E) for E = -2 .. 4: the barrel shifter of exp_on_negative_values.
EXP_OF_POWERS = {-2: 1672461947, -1: 1302514674, 0: 790015084, 1: 290630308, 2: 39332535, 3: 720401, 4: 242}
FORTY_EIGHT_SEVENTEENTHS = 1515870810  # 48/17 in Q2.29
MINUS_THIRTY_TWO_SEVENTEENTHS = -1010580540  # -32/17 in Q2.29
ONE_Q2_29 = 1 << 29


def exp_on_small_interval(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), a and the result Q0.31: a Taylor series around -1/8."""
    x = wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbp(x4, 2)
    terms = rdbp(wrap32(srdhm(wrap32(x4_over_4 + x3), ONE_THIRD) + x2), 1)
    return wrap32(EXP_MINUS_EIGHTH + srdhm(EXP_MINUS_EIGHTH, wrap32(x + terms)))


def exp_on_negative_values(a: np.ndarray, int_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 with int_bits integer bits; the result is Q0.31."""
    a = np.asarray(a, np.int64)
    frac_bits = 31 - int_bits
    quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter
    result = exp_on_small_interval(saturating_shift(a_mod_quarter_minus_quarter, int_bits))
    remainder = wrap32(a_mod_quarter_minus_quarter - a)
    for exponent, factor in EXP_OF_POWERS.items():
        if int_bits > exponent:
            bit = (remainder & (1 << (frac_bits + exponent))) != 0
            result = np.where(bit, srdhm(result, factor), result)
    if int_bits > 5:
        result = np.where(a < -(1 << (36 - int_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal(a: np.ndarray) -> np.ndarray:
    """x ~= 2 / (1 + a) in Q2.29 for a in [0, 1) Q0.31: three Newton-Raphson steps."""
    total = np.asarray(a, np.int64) + INT32_MAX
    nudged = total + np.where(total >= 0, 1, -1)
    half_denominator = np.where(nudged >= 0, nudged >> 1, -((-nudged) >> 1))  # RoundingHalfSum(a, 1)
    x = wrap32(FORTY_EIGHT_SEVENTEENTHS + srdhm(half_denominator, MINUS_THIRTY_TWO_SEVENTEENTHS))
    for _ in range(3):
        one_minus = wrap32(ONE_Q2_29 - srdhm(half_denominator, x))
        x = wrap32(x + saturating_shift(srdhm(x, one_minus), 2))
    return x


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), both Q0.31."""
    return saturating_shift(_newton_reciprocal(a), 1)


def one_minus_x_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """(1 - a) / (1 + a) for a in [0, 1), both Q0.31."""
    return saturating_shift(wrap32(_newton_reciprocal(a) - ONE_Q2_29), 2)


def logistic(a: np.ndarray, int_bits: int) -> np.ndarray:
    """1 / (1 + exp(-a)), the result Q0.31."""
    a = np.asarray(a, np.int64)
    p = one_over_one_plus_x(exp_on_negative_values(-np.abs(a), int_bits))
    return np.where(a == 0, 1 << 30, np.where(a > 0, p, INT32_MAX - p))


def tanh(a: np.ndarray, int_bits: int) -> np.ndarray:
    """tanh(a), the result Q0.31: exp(2n) read as exp on one more integer bit."""
    a = np.asarray(a, np.int64)
    t = one_minus_x_over_one_plus_x(exp_on_negative_values(-np.abs(a), int_bits + 1))
    return np.where(a == 0, 0, np.where(a < 0, -t, t))


def count_leading_zeros(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of x read as a uint32 (32 for 0)."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    zeros = np.zeros(x.shape, np.int64)
    for bits in (16, 8, 4, 2, 1):
        fits = x < (1 << (32 - bits))  # the top `bits` bits are zero
        zeros = zeros + np.where(fits, bits, 0)
        x = np.where(fits, x << bits, x)
    return zeros + (x == 0)


def reciprocal(x: np.ndarray, int_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """GetReciprocal: (1 / normalised x in Q0.31, the number of bits x has over one)."""
    x = np.asarray(x, np.int64)
    headroom = count_leading_zeros(x)
    shifted = wrap32(((x & 0xFFFFFFFF) << headroom) - (1 << 31))
    return one_over_one_plus_x(shifted), int_bits - headroom


def inverse_sqrt(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GetInvSqrtQuantizedMultiplierExp with reverse shift -1: 1/sqrt(x) = m * 2^(-e - 31)... as
    (multiplier, shift) with shift = -e, the form MBQM takes."""
    x = np.asarray(x, np.int64).copy()
    small = x <= 1
    exponent = np.full(x.shape, 11, np.int64)
    while np.any(big := x >= (1 << 29)):
        x = np.where(big, x // 4, x)
        exponent = exponent + big
    x = np.where(small, 1 << 28, x)
    pairs = (count_leading_zeros(x) - 1) // 2 - 1
    exponent = exponent - pairs
    x = x << (2 * pairs)
    half = rdbp(x >> 1, 1)
    three_halves = (1 << 28) + (1 << 27)
    estimate = np.full(x.shape, 1 << 28, np.int64)
    for _ in range(5):
        cubed = saturating_shift(srdhm(srdhm(estimate, estimate), estimate), 6)
        estimate = saturating_shift(wrap32(srdhm(three_halves, estimate) - srdhm(half, cubed)), 3)
    multiplier = srdhm(estimate, 1518500250)  # times sqrt(2) / 2
    negative = exponent < 0
    multiplier = np.where(negative, wrap32(multiplier << np.maximum(-exponent, 0)), multiplier)
    exponent = np.where(negative, 0, exponent)
    return np.where(small, INT32_MAX, multiplier), np.where(small, 0, -exponent)
