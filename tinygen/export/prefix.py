"""`--prefix NAME`: every public name of an exported model renamed, so two models link into one program.

Every name tinygen's C has is spelled tg_... or TG_... (tg_model_init, tg_conv_s8, tg_tensor_info,
TG_MODEL_ARENA_BYTES, the include guards), and so are its file names (tg_conv.c; model.h and model.c
get the prefix added). The rewrite works on C tokens: identifiers in the code are renamed; in
comments and string literals, only the words that are such a name, or one of the exported files
(#include "tg_conv.h"), so a tensor named tg_x keeps its name in the tensor table and its comment.
System headers (#include <...>) stay as they are.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..errors import TinygenError

DEFAULT = "tg"
C_SUFFIXES = (".c", ".h", ".cpp", ".ino")
# A prefix joins names as PREFIX_rest: a trailing or doubled underscore would make `__`, which C++
# reserves, and a leading one names reserved for the compiler.
VALID = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*\Z")
OURS = re.compile(r"(?<![A-Za-z0-9_])(tg|TG)_(?=[A-Za-z0-9_])")
TOKENS = re.compile(
    r"""
      (?P<system>\#[ \t]*include[ \t]*<[^>\n]*>)
    | (?P<text>//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    | (?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.S | re.X,
)
# In comments and strings: names, and file names (tg_conv.c).
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")


def check_prefix(prefix: str) -> str:
    if not VALID.match(prefix):
        raise TinygenError(
            f"--prefix {prefix!r} is not a C identifier tinygen can prefix names with: use letters and digits, "
            "starting with a letter, single underscores between them (kws, vww, model_a)"
        )
    return prefix


def prefixed(files: dict[str, str], prefix: str) -> dict[str, str]:
    """The files (path -> text) with prefix in place of tg in every name, file names included."""
    check_prefix(prefix)
    if prefix == DEFAULT:
        return dict(files)
    renamed = {file_name(path, prefix): path for path in files}
    if len(renamed) != len(files):
        raise TinygenError(f"--prefix {prefix}: two exported files would get the same name")
    sources = {path: text for path, text in files.items() if path.endswith(C_SUFFIXES)}
    names = {PurePosixPath(old).name: PurePosixPath(new).name for new, old in renamed.items()}
    rewrite = _Rewrite(prefix, sources, names)
    return {new: rewrite(files[old]) if old in sources else files[old] for new, old in renamed.items()}


def file_name(path: str, prefix: str) -> str:
    """Where the file at path goes with the prefix: tg_conv.c -> PREFIX_conv.c, model.h -> PREFIX_model.h."""
    p = PurePosixPath(path)
    if prefix == DEFAULT:
        return path
    if p.name.startswith("tg_"):
        return str(p.with_name(prefix + p.name[2:]))
    if p.stem == "model" and p.suffix in (".c", ".h"):
        return str(p.with_name(f"{prefix}_{p.name}"))
    return path


class _Rewrite:
    """The token rewrite of one set of sources (the names their code declares are known up front)."""

    def __init__(self, prefix: str, sources: dict[str, str], file_names: dict[str, str]) -> None:
        self.prefix, self.file_names = prefix, file_names
        self.code_names = {
            m.group()
            for text in sources.values()
            for m in TOKENS.finditer(text)
            if m.lastgroup == "identifier" and OURS.match(m.group())
        }

    def __call__(self, text: str) -> str:
        return TOKENS.sub(self._token, text)

    def _token(self, m: re.Match) -> str:
        if m.lastgroup == "identifier":
            return self._name(m.group())
        if m.lastgroup == "text":  # comments, string and character literals
            return WORD.sub(self._word, m.group())
        return m.group()  # system headers

    def _name(self, identifier: str) -> str:
        return OURS.sub(lambda m: self.prefix + "_" if m.group(1) == "tg" else self.prefix.upper() + "_", identifier)

    def _word(self, m: re.Match) -> str:
        """A name the code renames, or a file name, renamed; any other word (a tensor's name) kept."""
        word = m.group()
        if word in self.file_names:
            return self.file_names[word]
        stem, dot, rest = word.partition(".")
        return (self._name(stem) if stem in self.code_names else stem) + dot + rest
