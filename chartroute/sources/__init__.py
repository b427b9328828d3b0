"""Where chart data comes from: one protocol, one module per kind of source.

A source is named on the command line by a spec: a folder (``NdjsonDirSource``), a FHIR base
URL (``FhirRestSource``, incremental search), or the same URL prefixed ``bulk+``
(``BulkExportSource``, Bulk Data ``$export``). How to authenticate to a URL comes from the
practice config's ``ehr:`` section, never from the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chartroute.sources.base import Partition, Source, SourceRecord
from chartroute.sources.ndjson_dir import NdjsonDirSource

if TYPE_CHECKING:
    from chartroute.config.ehr import BlockLoader, Ehr
    from chartroute.config.models import PracticeConfig

__all__ = [
    "BULK_PREFIX",
    "NdjsonDirSource",
    "Partition",
    "Source",
    "SourceRecord",
    "ehr_for",
    "is_url_spec",
    "open_source",
]

BULK_PREFIX = "bulk+"


def is_url_spec(spec: str) -> bool:
    """True when ``spec`` names a FHIR server (``http(s)://…`` or ``bulk+http(s)://…``)."""
    bare = spec[len(BULK_PREFIX) :] if spec.startswith(BULK_PREFIX) else spec
    return bare.startswith(("http://", "https://"))


def open_source(
    spec: str, config: PracticeConfig | None = None, blocks: BlockLoader | None = None
) -> Source:
    """The source a command-line argument names; URLs use ``config.ehr`` for credentials."""
    if not is_url_spec(spec):
        return NdjsonDirSource(spec)
    bulk = spec.startswith(BULK_PREFIX)
    ehr = ehr_for(spec[len(BULK_PREFIX) :] if bulk else spec, config)
    if bulk:
        from chartroute.sources.bulk import BulkExportSource

        return BulkExportSource.from_config(ehr, blocks)
    from chartroute.sources.rest import FhirRestSource

    return FhirRestSource.from_config(ehr, blocks)


def ehr_for(base_url: str, config: PracticeConfig | None) -> Ehr:
    """The configured EHR connection for ``base_url``; an open connection when none is configured.

    A URL other than the configured one is refused rather than read with no credentials (or,
    worse, with another server's).
    """
    from chartroute.config.ehr import Ehr

    ehr = config.ehr if config is not None else None
    if ehr is None:
        return Ehr(base_url=base_url)
    if ehr.base_url != base_url.rstrip("/"):
        raise ValueError(
            f"source {base_url} is not the EHR configured in ehr.base_url ({ehr.base_url})"
        )
    return ehr
