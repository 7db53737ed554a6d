"""The test corpus's manifest (manifest.toml): each model file, where it came from, what tinygen must do."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.toml"


def cache_dir() -> Path:
    """Where scripts/fetch-corpus.py puts the models too large to commit."""
    if os.environ.get("TINYGEN_CORPUS_DIR"):
        return Path(os.environ["TINYGEN_CORPUS_DIR"])
    return Path.home() / ".cache" / "tinygen" / "corpus"


@dataclass(frozen=True)
class CorpusModel:
    name: str  # relative to tests/corpus, e.g. "mlperf-tiny/kws_ref_model.tflite"
    source: str
    expect: str  # "bit-exact" or "refused"
    refusal: str | None  # a regular expression tinygen's error must match
    why: str | None  # for the README: why tinygen refuses it
    reference_runs: bool  # False where tflite-micro itself cannot run the model
    qemu: tuple[str, ...]
    fetched: bool  # not committed: downloaded into cache_dir()

    @property
    def path(self) -> Path:
        return cache_dir() / self.name if self.fetched else HERE / self.name


def load() -> tuple[dict, list[CorpusModel]]:
    """The manifest's sources and its models; each file belongs to the first entry that names it."""
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    fetch = manifest.get("fetch", {})
    committed = sorted(str(p.relative_to(HERE)) for p in HERE.glob("*/*.tflite"))
    models: dict[str, CorpusModel] = {}
    for entry in manifest["model"]:
        for pattern in entry["files"]:
            matches = [name for name in committed if fnmatch.fnmatch(name, pattern)]
            matches += [name for name in fetch if fnmatch.fnmatch(name, pattern)]
            if not matches:
                raise ValueError(f"manifest.toml: {pattern} matches no model")
            for name in matches:
                models.setdefault(
                    name,
                    CorpusModel(
                        name=name,
                        source=entry["source"],
                        expect=entry["expect"],
                        refusal=entry.get("refusal"),
                        why=entry.get("why"),
                        reference_runs=entry.get("reference", "runs") == "runs",
                        qemu=tuple(entry.get("qemu", ())),
                        fetched=name in fetch,
                    ),
                )
    unlisted = set(committed) - set(models)
    if unlisted:
        raise ValueError(f"manifest.toml does not list {sorted(unlisted)}")
    return manifest, sorted(models.values(), key=lambda m: m.name)
