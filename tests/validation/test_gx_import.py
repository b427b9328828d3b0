"""Great Expectations imports without scipy.stats and altair, and still has them when used.

Each check runs in a fresh interpreter: what is in ``sys.modules`` is the thing under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_deferred_module_loads_on_first_use_and_then_is_the_real_one() -> None:
    seen = run_fresh(
        """
        import json, sys
        from chartroute.validation.gx_import import DeferredModule, defer_import
        first = defer_import("colorsys")
        again = defer_import("colorsys")
        missing = defer_import("no_such_module_anywhere")
        import colorsys
        placeholder = type(colorsys).__name__
        hsv = colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
        print(json.dumps({
            "first": first, "again": again, "missing": missing,
            "placeholder": placeholder, "hsv": list(hsv),
            "real_after": not isinstance(sys.modules["colorsys"], DeferredModule),
            "old_name_works": colorsys.hsv_to_rgb(0.0, 1.0, 1.0) == (1.0, 0.0, 0.0),
        }))
        """
    )
    assert seen == {
        "first": True,
        "again": False,
        "missing": False,
        "placeholder": "DeferredModule",
        "hsv": [0.0, 1.0, 1.0],
        "real_after": True,
        "old_name_works": True,
    }


def test_gx_imports_without_scipy_stats_or_altair_until_they_are_used() -> None:
    seen = run_fresh(
        """
        import json, sys
        from chartroute.validation.gx_import import DeferredModule, import_gx
        import_gx()
        deferred = sorted(n for n in ("scipy.stats", "altair")
                          if isinstance(sys.modules.get(n), DeferredModule))
        from great_expectations.expectations.core import (
            expect_column_kl_divergence_to_be_less_than as kl,
        )
        entropy = float(kl.stats.entropy([0.5, 0.5], [0.5, 0.5]))
        chart = hasattr(kl.alt, "Chart")
        loaded = sorted(n for n in ("scipy.stats", "altair")
                        if not isinstance(sys.modules.get(n), DeferredModule))
        print(json.dumps({"deferred": deferred, "entropy": entropy, "chart": chart,
                          "loaded": loaded}))
        """
    )
    assert seen == {
        "deferred": ["altair", "scipy.stats"],
        "entropy": 0.0,
        "chart": True,
        "loaded": ["altair", "scipy.stats"],
    }
