"""Mutated models through the reader, the validator and the compiler: each compiles or is refused with a
TinygenError, never another exception or a hang; and a sample of the mutants that compile runs clean
under ASan and UBSan. TINYGEN_FUZZ_CASES=20000 runs the long mode."""

from __future__ import annotations

import os
import resource
import signal
import traceback
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tinygen.compiler.pipeline import CompiledModel, LoadedModel, compile_model, load_or_quantize
from tinygen.device.host import HostTarget
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.verify import random_samples

from .fuzz_mutants import mutant, unpack
from .fuzz_seeds import seed_models

CASES = int(os.environ.get("TINYGEN_FUZZ_CASES", "1000"))
CASE_SECONDS = 10  # a case that takes longer is a hang
CASE_MEMORY = 2 << 30  # bytes a case may add to the process: more is an unbounded allocation
SANITIZED = 20  # compiled mutants built under the sanitizers per run
SAMPLES = 4


class CaseTimeout(BaseException):  # not an Exception: no `except Exception` in tinygen may swallow it
    pass


@contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def memory_limit(extra: int):
    """The address space capped at its size now plus `extra`: an allocation without bound fails at once with
    MemoryError (a SIGALRM cannot stop one C call building a list of 2^31 items, and the machine's memory
    would go first)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    limit = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@dataclass
class Outcome:
    case: int
    seed: str
    mutation: str
    result: str  # "compiled", "refused", "internal error" or "hang"
    detail: str = ""


class Mutants:
    """Case n: mutant n of seed n % len(seeds), from a generator seeded with n (reproducible alone)."""

    def __init__(self) -> None:
        self.seeds = seed_models()
        self.names = sorted(self.seeds)
        self.trees = {name: unpack(data) for name, data in self.seeds.items()}

    def __call__(self, case: int) -> tuple[str, bytes, str]:
        name = self.names[case % len(self.names)]
        data, mutation = mutant(self.trees[name], self.seeds[name], np.random.default_rng(case))
        return name, data, mutation


def compile_bytes(data: bytes) -> CompiledModel:
    return compile_model(LoadedModel(parse_tflite(data), data, "mutant.tflite"))


def run_case(mutants: Mutants, case: int, directory: Path) -> Outcome:
    """The mutant as `tinygen build` takes it: read from a file (validated, tested for float), compiled."""
    name, data, mutation = mutants(case)
    outcome = Outcome(case, name, mutation, "compiled")
    path = directory / "mutant.tflite"
    path.write_bytes(data)
    try:
        with time_limit(CASE_SECONDS), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warning: a second line on the terminal
            compile_model(load_or_quantize(path))
    except TinygenError as e:
        outcome.result, outcome.detail = "refused", str(e)
        if isinstance(e.__cause__, MemoryError):  # the reader calls any failure of a damaged file "corrupt"
            outcome.result, outcome.detail = "internal error", f"out of memory ({e})"
    except CaseTimeout:
        outcome.result = "hang"
    except Exception as e:
        outcome.result = "internal error"
        outcome.detail = "".join(traceback.format_exception_only(e)).strip() + " at " + _where(e)
    return outcome


def _where(e: Exception) -> str:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "tinygen" in f.filename]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


@pytest.fixture(scope="module")
def mutants() -> Mutants:
    return Mutants()


@pytest.fixture(scope="module")
def outcomes(mutants, tmp_path_factory) -> list[Outcome]:
    directory = tmp_path_factory.mktemp("mutants")
    with memory_limit(CASE_MEMORY):
        return [run_case(mutants, case, directory) for case in range(CASES)]


def test_every_mutant_compiles_or_gets_one_line(outcomes):
    counts = Counter(o.result for o in outcomes)
    print(f"\n{len(outcomes)} mutants: {dict(counts)}")
    bad = [o for o in outcomes if o.result in ("internal error", "hang")]
    assert not bad, "\n".join(f"case {o.case} ({o.seed}: {o.mutation}): {o.result} {o.detail}" for o in bad[:20])
    assert counts["compiled"] > len(outcomes) // 10 and counts["refused"] > len(outcomes) // 10  # mutants of both kinds


def _distinct_compiled(outcomes: list[Outcome], mutants: Mutants) -> list[int]:
    """Cases whose mutant compiled to other C than its seed, spread over the run."""
    seed_sources = {}
    cases = []
    for o in outcomes:
        if o.result != "compiled" or o.mutation.startswith("bytes"):
            continue
        if o.seed not in seed_sources:
            seed_sources[o.seed] = compile_bytes(mutants.seeds[o.seed]).generated.files
        cases.append(o.case)
    step = max(1, len(cases) // (SANITIZED * 4))
    chosen = []
    for case in cases[::step]:
        name, data, _ = mutants(case)
        if compile_bytes(data).generated.files != seed_sources[name]:
            chosen.append(case)
        if len(chosen) == SANITIZED:
            break
    return chosen


def test_compiled_mutants_run_clean_under_sanitizers(outcomes, mutants, tmp_path):
    chosen = _distinct_compiled(outcomes, mutants)
    assert len(chosen) >= SANITIZED // 2, f"only {len(chosen)} distinct compiled mutants"

    def build_and_run(case: int) -> str | None:
        _, data, mutation = mutants(case)
        compiled = compile_bytes(data)
        try:
            with HostTarget.build(compiled, tmp_path / str(case), sanitize=True) as target:
                target.run(random_samples(compiled.model.graph, SAMPLES, seed=case))
        except TinygenError as e:
            return f"case {case} ({mutation}): {e}"
        return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # the C compiler runs in processes
        failures = [f for f in pool.map(build_and_run, chosen) if f]
    assert not failures, "\n".join(failures)
