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
