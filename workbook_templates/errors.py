"""The one exception of the data layer: a spec file that cannot be used."""
from __future__ import annotations


class SpecError(ValueError):
    """A catalog, choices, form or roster file is unusable.  ``str()`` is one line that
    names the file and the problem (Vietnamese, then English), ready to print to a user."""

    def __init__(self, source: object, problem_vi: str, problem_en: str = "") -> None:
        self.source = str(source)
        self.problem_vi = problem_vi
        self.problem_en = problem_en
        text = f"{self.source}: {problem_vi}"
        if problem_en:
            text += f" / {problem_en}"
        super().__init__(text)
