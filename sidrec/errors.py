"""The one error type users see.

Anything wrong with what a user handed us (a file, a column, an id, artifacts
that do not belong together) raises `SidrecError` with one line that says what
is wrong and where. The CLI prints that line and exits with status 2; the app
shows it in the page. Bugs stay ordinary exceptions.
"""


class SidrecError(ValueError):
    """A problem with user input or artifacts, described in one line."""


def one_of(value: str, choices: tuple[str, ...], what: str) -> None:
    """Refuse a setting outside its choices, naming them.

    >>> one_of("cell", ("cell", "share"), "placed-item score")
    >>> one_of("all", ("cell", "share"), "placed-item score")
    Traceback (most recent call last):
    sidrec.errors.SidrecError: unknown placed-item score 'all' (choose from cell, share)
    """
    if value not in choices:
        raise SidrecError(f"unknown {what} {value!r} (choose from {', '.join(choices)})")
