"""Run the classification rules on in-memory resources, as ``chartroute classify`` does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chartroute.charts import FactIndex
from chartroute.classify import ChartVerdict, classify_chart
from chartroute.config import PracticeConfig
from chartroute.fhir.extract import extract_facts


def verdicts(
    resources: list[dict[str, Any]], config: PracticeConfig, as_of: datetime
) -> dict[str, ChartVerdict]:
    index = FactIndex()
    for resource in resources:
        for fact in extract_facts(resource):
            index.add(fact)
    return {
        chart.encounter.key: classify_chart(chart, config.charts, config.documentation, as_of)
        for chart in index.charts()
    }


def categories(
    resources: list[dict[str, Any]], config: PracticeConfig, as_of: datetime
) -> dict[str, list[tuple[str, str]]]:
    """encounter → [(category, subject)] for open charts."""
    return {
        key: [(b.category, b.subject) for b in v.blockers]
        for key, v in verdicts(resources, config, as_of).items()
        if v.is_open
    }
