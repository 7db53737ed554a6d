"""Names from model and board files are data: each is escaped for the place it lands.

A tensor name, a model's file name or a board's display name comes from whoever wrote the file.
Written unescaped into a C comment, `*/` would end the comment and the rest would compile; into
platformio.ini, a newline would add settings (extra_scripts runs Python); into a terminal, escape
sequences would drive it. Every generated text goes through one of these functions instead. Names
are also cut to NAME_LIMIT characters there: a 1 MB name makes a 1 MB comment otherwise.
"""

from __future__ import annotations

NAME_LIMIT = 120


def _cut(text: str, limit: int = NAME_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _printable_ascii(text: str) -> str:
    """Printable ASCII kept, everything else as \\xNN or \\uNNNN (as text)."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F:
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def c_comment(text: str) -> str:
    """Text for inside a C block comment: one line, ASCII, with no comment delimiters."""
    safe = _printable_ascii(_cut(text)).replace("*/", "* /").replace("/*", "/ *")
    return safe.replace("??", "?\\?")  # no trigraphs (C99 still reads ??/ as a backslash)


def c_string(text: str) -> str:
    """Text for inside a C string literal: backslashes, quotes, '?' (trigraphs) and every byte
    outside printable ASCII escaped, so the literal holds exactly the UTF-8 bytes of the name."""
    out = []
    for byte in _cut(text).encode("utf-8"):
        ch = chr(byte)
        if ch in '\\"?':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")  # octal: a hex escape would swallow the hex digits after it
    return "".join(out)


def ini_comment(text: str) -> str:
    """Text for the rest of a platformio.ini comment line: one line, ASCII."""
    return _printable_ascii(_cut(text))


def terminal(text: str, limit: int = NAME_LIMIT) -> str:
    """Text for a terminal line: characters that are not printable (escape sequences, newlines)
    shown as escapes, the rest as it is."""
    return "".join(ch if ch.isprintable() else _printable_ascii(ch) for ch in _cut(text, limit))


def terminal_line(text: str, limit: int = 2000) -> str:
    """A message for one terminal line: escapes as terminal(), every run of more than NAME_LIMIT
    characters without a space shortened (a name, usually), and the whole cut at `limit`."""
    words = [_cut(word) for word in text.split(" ")]
    return terminal(" ".join(words), limit)
