"""Writing an export: a folder, or a zip holding one folder.

A folder goes through tinygen/device/outdir.py's ProjectDir (staged and moved into place, locked,
the user's files never overwritten without --force). A zip is written to a temporary file beside
it and renamed over the old one, so a reader never sees half a zip; it replaces only a zip tinygen
wrote (its comment says so) unless --force. The same files give the same zip, byte for byte.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path, PurePosixPath

from .. import __version__
from ..atomic import write_atomically
from ..device.outdir import ProjectDir
from ..errors import TinygenError

ZIP_MARK = b"tinygen "  # the start of the comment of every zip tinygen writes
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build date in the bytes
UNIX = 3  # the zip "made by" system whose permission bits the entries carry


def write_export(files: dict[str, str], output: Path, force: bool = False) -> Path:
    """Write files (relative path -> text) into the folder output, or into output.zip under one folder
    named after it (what the Arduino IDE's Add .ZIP Library expects)."""
    output = Path(os.path.abspath(output))
    if output.suffix.lower() == ".zip":
        _write_zip(files, output, force)
        return output
    place = ProjectDir(output, force=force)
    with place as staging:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")  # the same bytes on every OS
    return place.target


def _write_zip(files: dict[str, str], path: Path, force: bool) -> None:
    if path.is_symlink():
        raise TinygenError(f"{path} is a symbolic link; give tinygen a real file to write the zip to")
    if path.is_dir():
        raise TinygenError(f"{path} is a folder; name a .zip file with -o")
    if path.exists() and not force and not _written_by_tinygen(path):
        raise TinygenError(f"{path} exists and tinygen did not write it; choose another file with -o, or --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, zip_bytes(files, path.stem))


def zip_bytes(files: dict[str, str], folder: str) -> bytes:
    """The zip of files under folder/, with an entry for every folder (some unzippers want them)."""
    entries = {f"{folder}/{relative}": text.encode("utf-8") for relative, text in files.items()}
    for name in list(entries):
        for parent in PurePosixPath(name).parents:
            if str(parent) != ".":
                entries[f"{parent}/"] = b""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.comment = ZIP_MARK + __version__.encode()
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.create_system = UNIX
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10  # a directory, rwxr-xr-x
            else:
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def _written_by_tinygen(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment.startswith(ZIP_MARK)
    except (OSError, zipfile.BadZipFile):
        return False
