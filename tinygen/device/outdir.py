"""Writing a project folder without losing anything the user has.

A project is written (and built) in a staging folder beside the target and moved into place
only when complete: an interrupted build leaves the previous project as it was, never new
sources beside an old binary. A lock file refuses a second tinygen writing the same folder at
the same time. The project records what tinygen wrote (RECORD); a rebuild replaces exactly
those files, and a folder holding anything else is refused unless the user passes --force (then
the other files stay where they are). Symbolic links are never followed: a target that is a
link is refused, and links inside are moved as links.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import __version__
from ..errors import TinygenError

RECORD = ".tinygen.json"  # in every project: the files tinygen wrote there
BUILD_OUTPUT = (".pio",)  # folders the build tools make inside a project; they belong to the project


class ProjectDir:
    """`with ProjectDir(target) as staging:` write into staging; on a clean exit it becomes target."""

    def __init__(self, target: Path, force: bool = False) -> None:
        self.target = Path(os.path.abspath(target))
        self.force = force
        self.lock = self.target.parent / f".{self.target.name}.tinygen-lock"
        self.staging: Path | None = None

    def __enter__(self) -> Path:
        if self.target.is_symlink():
            raise TinygenError(f"{self.target} is a symbolic link; give tinygen a real folder to write the project to")
        if self.target.exists() and not self.target.is_dir():
            raise TinygenError(f"{self.target} exists and is not a folder")
        foreign = self._foreign_files()
        if foreign and not self.force:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise TinygenError(
                f"{self.target} holds files tinygen did not write ({shown}); choose another folder, or pass "
                "--force to write the project beside them"
            )
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tinygen-new-", dir=self.target.parent))
        return self.staging

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._commit()
        finally:
            if self.staging is not None and self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
            self.lock.unlink(missing_ok=True)

    def final(self, path: Path) -> Path:
        """Where a path inside the staging folder lives once the project is in place."""
        return self.target / Path(path).relative_to(self.staging)

    def _foreign_files(self) -> list[str]:
        """Entries of the target that tinygen's record does not list (relative paths, sorted)."""
        if not self.target.exists():
            return []
        ours = set(_record(self.target)) | {RECORD, *BUILD_OUTPUT}
        found = []
        for path in sorted(_walk(self.target)):
            relative = path.relative_to(self.target).as_posix()
            if relative not in ours and not relative.startswith(tuple(f"{d}/" for d in BUILD_OUTPUT)):
                found.append(relative)
        return found

    def _take_lock(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if _holder_alive(self.lock):
                    raise TinygenError(
                        f"another tinygen is writing {self.target} (lock {self.lock}); wait for it to finish"
                    ) from None
                self.lock.unlink(missing_ok=True)  # left by a tinygen that is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return
        raise TinygenError(f"cannot take the lock {self.lock}")

    def _commit(self) -> None:
        files = sorted(p.relative_to(self.staging).as_posix() for p in _walk(self.staging))
        files = [f for f in files if not f.startswith(tuple(f"{d}/" for d in BUILD_OUTPUT))]
        (self.staging / RECORD).write_text(json.dumps({"tinygen": __version__, "files": files}, indent=1) + "\n")
        if not self.target.exists():
            os.replace(self.staging, self.target)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tinygen-old-", dir=self.target.parent))
        os.replace(self.target, old / "project")
        os.replace(self.staging, self.target)
        for relative in self._foreign_in(old / "project"):  # --force: the user's files stay with the project
            source, destination = old / "project" / relative, self.target / relative
            if not destination.exists() and not destination.is_symlink():
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, destination)
        shutil.rmtree(old, ignore_errors=True)

    def _foreign_in(self, folder: Path) -> list[str]:
        ours = set(_record(folder)) | {RECORD}
        return [
            p.relative_to(folder).as_posix()
            for p in sorted(_walk(folder))
            if p.relative_to(folder).as_posix() not in ours
            and not p.relative_to(folder).as_posix().startswith(tuple(f"{d}/" for d in BUILD_OUTPUT))
            and p.relative_to(folder).parts[0] not in BUILD_OUTPUT
        ]


def _record(folder: Path) -> list[str]:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return [str(f) for f in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _walk(folder: Path):
    """Every file and link below folder, without following links."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            yield Path(root) / name
        for name in dirs:
            if (Path(root) / name).is_symlink():
                yield Path(root) / name


def _holder_alive(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True
