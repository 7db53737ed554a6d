"""Where the data directories that ship with tinygen live: boards/, templates/, firmware/.

In a source checkout they sit at the repository root; in an installed wheel they are
force-included into the package directory (see pyproject.toml).
"""

from __future__ import annotations

import functools
from pathlib import Path

from .errors import TinygenError

_PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES = ("boards", "templates", "firmware")


def resource_dir(name: str) -> Path:
    """The directory holding the named resource ("boards", "templates" or "firmware")."""
    if name not in RESOURCES:
        raise ValueError(f"unknown resource {name!r}; expected one of {RESOURCES}")
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise TinygenError(f"tinygen's {name}/ directory is missing: reinstall tinygen")


@functools.cache
def _environment():
    import jinja2

    from . import escape

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),  # report.html.j2 escapes what it inserts
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    # Names from model and board files, escaped for the C or ini text they land in (tinygen/escape.py).
    env.filters.update(c_comment=escape.c_comment, c_string=escape.c_string, ini_comment=escape.ini_comment)
    return env


def render(template: str, **context) -> str:
    """Render a Jinja2 template from templates/ (an undefined name is an error, not "").

    .html templates escape what they insert; C and config templates insert text as it is, so they
    pass names from files through the c_comment, c_string and ini_comment filters."""
    return _environment().get_template(template).render(**context)
