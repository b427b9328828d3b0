"""Searches that span many pages: follow ``next`` links in a loop until there are none.

A loop, not recursion, so a million-row type does not grow the stack; a ``next`` link seen
twice is a server bug that would otherwise page forever, and stops the search with an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.fhirclient.errors import Fatal, redact_url
from chartroute.fhirclient.http import FhirHttp, server_time


@dataclass(frozen=True)
class Page:
    """One Bundle of a search or history, with the URL it came from."""

    url: str
    number: int
    bundle: dict[str, Any]
    response: httpx.Response

    @property
    def entries(self) -> list[dict[str, Any]]:
        entries = self.bundle.get("entry")
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    @property
    def total(self) -> int | None:
        total = self.bundle.get("total")
        return total if isinstance(total, int) else None

    def server_time(self) -> datetime | None:
        """When the server answered: the earlier of Bundle.meta.lastUpdated and the Date header."""
        times = [t for t in (bundle_time(self.bundle), server_time(self.response)) if t is not None]
        return min(times) if times else None


def iter_pages(http: FhirHttp, url: str, params: dict[str, str] | None = None) -> Iterator[Page]:
    """Every page of a search or history, first to last."""
    page_url: str | None = url
    page_params: dict[str, str] | None = params
    seen: set[str] = set()
    number = 0
    while page_url is not None:
        bundle, response = http.get_json(page_url, page_params)
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise Fatal(f"GET {redact_url(page_url)}: expected a Bundle")
        number += 1
        yield Page(str(response.request.url), number, bundle, response)
        link = next_link(bundle)
        if link is None:
            return
        page_url = http.follow(link)
        page_params = None
        if page_url in seen:
            raise Fatal(f"{redact_url(page_url)}: the server's next link repeats; stopping")
        seen.add(page_url)


def next_link(bundle: dict[str, Any]) -> str | None:
    """The URL of the page after this one, if any."""
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
    return None


def bundle_time(bundle: dict[str, Any]) -> datetime | None:
    """Bundle.meta.lastUpdated, when the server sets it."""
    meta = bundle.get("meta")
    value = meta.get("lastUpdated") if isinstance(meta, dict) else None
    try:
        return parse_fhir_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
