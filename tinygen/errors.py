class TinygenError(Exception):
    """A user-facing failure: one line, non-zero exit."""
