"""What every section of the practice file is built from: a strict model and a located error.

Each section lives in its own module (``notify``, ``escalation``, ``ehr``, ...) and
``models.PracticeConfig`` assembles them, so the pieces they share sit below all of them here:
importing them from ``models`` would make every section depend on the whole file's model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config model that rejects unknown keys (a typo is an error, not a silent default) and
    cannot be changed once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocatedValueError(ValueError):
    """A validation error that knows which field it is about (for file/line reporting).

    ``loc`` is relative to the model whose validator raised it; the loader appends it to the
    location pydantic reports for that model and finds the line in the YAML.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.loc = loc
