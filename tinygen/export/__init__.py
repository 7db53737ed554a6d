"""`tinygen export`: a compiled model as sources for other build systems.

An Arduino library (arduino.py), a CMake library target or plain C (sources.py), with every public
name prefixed on request so that two models share a program (prefix.py), written as a folder or a
zip (writer.py).
"""

from ..labels import read_labels
from .arduino import BundledInput, ImuNormalization, read_normalization
from .sources import FORMATS, export_files
from .writer import write_export

__all__ = [
    "FORMATS",
    "BundledInput",
    "ImuNormalization",
    "export_files",
    "read_labels",
    "read_normalization",
    "write_export",
]
