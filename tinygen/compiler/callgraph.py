"""GCC's call graph with stack frames (-fcallgraph-info=su writes one .ci file per object), and the
deepest chain of frames below a set of entry points.

Each .ci file is a VCG graph: a node per function the unit defines, with its frame in the label
("24 bytes (static)", the same numbers -fstack-usage writes to the .su file), a node without a
frame per function it only declares, and an edge per call. Calls through a pointer go to the node
`__indirect_call`. Static functions are titled "file:name", so their names may repeat across units.

The walk is conservative: it refuses to give a number (Unbounded) for a frame of variable size, a
function that can reach itself, or a call through a pointer it was not told the targets of.
Functions no unit defines (the C library) have no frame here; the caller accounts for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

INDIRECT_CALL = "__indirect_call"
NODE = re.compile(r'^node: \{ title: "(?P<title>[^"]*)" label: "(?P<label>[^"]*)"', re.M)
EDGE = re.compile(r'^edge: \{ sourcename: "(?P<source>[^"]*)" targetname: "(?P<target>[^"]*)"', re.M)
# The frame line of a defined function's label; "dynamic" alone means GCC found no bound.
FRAME = re.compile(r"(?P<bytes>\d+) bytes \((?P<kind>static|dynamic|dynamic,bounded)\)$")


class Unbounded(Exception):
    """The stack below an entry point has no bound the call graph can show; the message says why."""


@dataclass(frozen=True)
class Frame:
    function: str
    bytes: int
    location: str  # "file:line:column" of the definition, as the .su file names it


@dataclass
class Function:
    frame: Frame
    bounded: bool  # False for a frame of variable size (alloca, a variable-length array)
    callees: list[str] = field(default_factory=list)  # node titles, INDIRECT_CALL for a call through a pointer


class CallGraph:
    def __init__(self, functions: dict[str, Function]) -> None:
        self.functions = functions  # title -> Function, every function the units define

    @classmethod
    def read(cls, ci_files: list[Path]) -> CallGraph:
        functions: dict[str, Function] = {}
        edges: list[tuple[str, str]] = []
        for path in ci_files:
            text = path.read_text(encoding="utf-8", errors="replace")
            for node in NODE.finditer(text):
                name, *rest = node["label"].split("\\n")
                frame = FRAME.fullmatch(rest[-1]) if len(rest) == 2 else None
                if frame:  # a definition; declarations carry no frame
                    functions[node["title"]] = Function(
                        Frame(name, int(frame["bytes"]), rest[0]), bounded=frame["kind"] != "dynamic"
                    )
            edges += [(edge["source"], edge["target"]) for edge in EDGE.finditer(text)]
        for source, target in edges:
            functions[source].callees.append(target)
        return cls(functions)

    def titles(self, name: str) -> list[str]:
        """The nodes of the functions called `name` (a static name may be defined in several units)."""
        return [title for title, function in self.functions.items() if function.frame.function == name]

    def deepest(self, entries: list[str], indirect: dict[str, list[str]]) -> list[Frame]:
        """The chain of frames with the largest sum from any of the entries (function names) down.

        indirect: for each function that calls through a pointer, the names of the functions it may
        call so. Calls to functions no unit defines end the chain (they have no frame here)."""
        deepest: dict[str, list[Frame]] = {}
        on_path: list[str] = []

        def walk(title: str) -> list[Frame]:
            if title in deepest:
                return deepest[title]
            function = self.functions[title]
            name = function.frame.function
            if title in on_path:
                raise Unbounded(f"{name} can call itself ({' > '.join(self._names(on_path, title))})")
            if not function.bounded:
                raise Unbounded(f"{name} has a frame of variable size")
            on_path.append(title)
            below: list[Frame] = []
            for callee in self._callees(function, indirect):
                chain = walk(callee)
                if _total(chain) > _total(below):
                    below = chain
            on_path.pop()
            deepest[title] = [function.frame, *below]
            return deepest[title]

        chains = [walk(title) for name in entries for title in self.titles(name)]
        if not chains:
            raise Unbounded(f"none of {', '.join(entries)} is in the call graph")
        return max(chains, key=_total)

    def _callees(self, function: Function, indirect: dict[str, list[str]]) -> list[str]:
        callees = []
        for callee in function.callees:
            if callee != INDIRECT_CALL:
                callees += [callee] if callee in self.functions else []
            elif function.frame.function in indirect:
                callees += [title for name in indirect[function.frame.function] for title in self.titles(name)]
            else:
                raise Unbounded(f"{function.frame.function} calls through a pointer")
        return callees

    def _names(self, path: list[str], title: str) -> list[str]:
        return [self.functions[t].frame.function for t in path[path.index(title) :] + [title]]


def _total(chain: list[Frame]) -> int:
    return sum(frame.bytes for frame in chain)
