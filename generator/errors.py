"""Problems found in spec files, collected as values so one run reports all of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one spec file: where it is and what is wrong."""

    file: str
    line: int
    key: str
    message: str
    #: "error" stops a run; "warning" is printed and the run goes on (``validate`` exits 0).
    level: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" [{self.key}]" if self.key else ""
        return f"{where}:{key} {self.message}"


class SpecError(Exception):
    """Raised when a version folder cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OutputError(Exception):
    """Writing (or reading) the output tree failed; the message is one line and names the path.

    Whatever was there before is left as it was.
    """

    def __init__(self, message: str, *, errno: int | None = None) -> None:
        self.errno = errno
        super().__init__(message)


class UsageError(Exception):
    """The command line asks for something that cannot be done (unknown version, missing spec root)."""


class RefusedError(Exception):
    """The command would overwrite something it must not without ``--force``."""
