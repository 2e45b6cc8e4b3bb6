"""The one exception type for bad user input: the CLI prints its message on one line and exits non-zero."""

from __future__ import annotations


class CodesignError(ValueError):
    """Bad input or an impossible request, described in one line for the user.

    Raise it for anything the user can fix (a missing file, a malformed shape, an unknown preset, an impossible
    budget). Internal bugs should stay ordinary exceptions so that they keep their traceback.
    """

    def __init__(self, message: str) -> None:
        # Keep the message on one line whatever the caller passed in.
        super().__init__(" ".join(str(message).split()))
