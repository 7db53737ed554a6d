"""Download the test corpus's models too large to commit (tests/corpus/manifest.toml, [fetch]) into the
corpus cache ($TINYGEN_CORPUS_DIR, else ~/.cache/tinygen/corpus), each checked against its SHA-256.

    python scripts/fetch-corpus.py              # from GitHub, at the pinned commits
    python scripts/fetch-corpus.py --from DIR   # from clones of the source repositories in DIR/<name>
                                                # (for example DIR/tflite-micro, DIR/mlperf-tiny, DIR/coral)
The tests skip these models when they are absent.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.corpus.manifest import cache_dir, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source_dir", type=Path, help="local clones of the source repositories")
    args = parser.parse_args()
    manifest, _ = load()
    sources = manifest["sources"]
    failed = 0
    for name, (source, path, sha256) in manifest["fetch"].items():
        target = cache_dir() / name
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            print(f"{name}: already there")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        repo, commit = sources[source].split("@")
        try:
            if args.source_dir:
                data = (args.source_dir / source / path).read_bytes()
            else:
                url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
                with urllib.request.urlopen(url, timeout=60) as response:
                    data = response.read()
        except OSError as e:
            print(f"{name}: not fetched ({e})", file=sys.stderr)
            failed += 1
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            print(f"{name}: the download is not the pinned file (SHA-256 differs); not kept", file=sys.stderr)
            failed += 1
            continue
        target.write_bytes(data)
        print(f"{name}: {len(data):,} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
