"""Import Great Expectations without the libraries only one of its expectations needs.

``import great_expectations`` registers every built-in expectation, and one of them (the
KL-divergence expectation, which chartroute's suites never use) imports ``scipy.stats`` and
``altair`` at module level: about 45% of GX's import time, paid by every sync that has a
record to check (``bench/README.md``, "Sync throughput"). Those two modules are put in
``sys.modules`` as placeholders that import the real module the first time anything reads an
attribute of them, so an expectation or a renderer that does use them still gets them.

``importlib.util.LazyLoader`` does not do this on Python 3.11: ``import altair`` itself reads
the module's ``__spec__``, which makes a lazy module load at once. A placeholder that carries
the real spec in its own namespace answers that read without loading anything.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

#: Imported by GX only for ``expect_column_kl_divergence_to_be_less_than``.
ONLY_FOR_UNUSED_EXPECTATIONS = ("scipy.stats", "altair")


class DeferredModule(types.ModuleType):
    """Stands in for a module until an attribute of it is read, then becomes it."""

    def __getattr__(self, attr: str) -> Any:
        # Called only for names the placeholder's own namespace lacks: the first real use.
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer_import(name: str) -> bool:
    """Put a placeholder for ``name`` in ``sys.modules``; False when it is loaded or absent."""
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:  # its parent package is missing: GX's own import will say so
        return False
    if spec is None:
        return False
    placeholder = DeferredModule(name)
    placeholder.__spec__ = spec
    placeholder.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        placeholder.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = placeholder
    return True


def import_gx() -> Any:
    """``great_expectations``, imported once, with the batch fingerprint turned off."""
    if "great_expectations" not in sys.modules:
        for name in ONLY_FOR_UNUSED_EXPECTATIONS:
            defer_import(name)
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # The batch fingerprint is a label on the result; chartroute never re-identifies a batch.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx
