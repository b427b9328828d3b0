"""The HTTP layer with a mocked server: retries, re-authorization, paging, links, downloads."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from chartroute.fhirclient.auth import BasicAuth, BearerAuth
from chartroute.fhirclient.errors import AuthorizationFailed, Fatal, Temporary
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.fhirclient.search import iter_pages

BASE = "https://ehr.test/fhir"


class CountingAuth:
    """Hands out numbered tokens; a renewal moves to the next one."""

    def __init__(self) -> None:
        self.number = 1
        self.renewals = 0

    def authorization(self) -> str | None:
        return f"Bearer t{self.number}"

    def renew(self, rejected: str | None) -> bool:
        self.renewals += 1
        self.number += 1
        return True


def client(sleeps: list[float], auth: object = None, **kwargs: object) -> FhirHttp:
    policy = RetryPolicy(attempts=4, base_delay=0.01, sleep=sleeps.append)
    return FhirHttp(BASE, auth, retry=policy, limiter=RateLimiter(1000, 4), **kwargs)  # type: ignore[arg-type]


def bundle(ids: list[str], next_url: str | None = None) -> dict[str, object]:
    links = [{"relation": "self", "url": "x"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [{"resource": {"resourceType": "Encounter", "id": i}} for i in ids],
    }


@respx.mock
def test_429_and_5xx_and_transport_errors_are_retried() -> None:
    route = respx.get(f"{BASE}/Encounter").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=bundle(["e1"])),
        ]
    )
    sleeps: list[float] = []
    body, _ = client(sleeps).get_json(f"{BASE}/Encounter")
    assert body["entry"][0]["resource"]["id"] == "e1"
    assert route.call_count == 4 and sleeps[0] == 2


@respx.mock
def test_timeouts_and_dropped_bodies_are_temporary_after_the_attempts() -> None:
    respx.get(f"{BASE}/Encounter").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("peer closed")] * 2
    )
    with pytest.raises(Temporary):
        client([]).get_json(f"{BASE}/Encounter")


@respx.mock
def test_other_4xx_are_fatal_at_once() -> None:
    route = respx.get(f"{BASE}/Encounter").mock(return_value=httpx.Response(400))
    with pytest.raises(Fatal) as failure:
        client([]).get_json(f"{BASE}/Encounter")
    assert route.call_count == 1 and failure.value.status == 400


@respx.mock
def test_a_401_re_authorizes_once() -> None:
    auth = CountingAuth()
    route = respx.get(f"{BASE}/Encounter").mock(
        side_effect=lambda request: httpx.Response(
            200 if request.headers["Authorization"] == "Bearer t2" else 401, json=bundle([])
        )
    )
    client([], auth).get_json(f"{BASE}/Encounter")
    assert auth.renewals == 1 and route.call_count == 2


@respx.mock
def test_a_second_401_is_fatal() -> None:
    auth = CountingAuth()
    respx.get(f"{BASE}/Encounter").mock(return_value=httpx.Response(401))
    with pytest.raises(AuthorizationFailed):
        client([], auth).get_json(f"{BASE}/Encounter")
    assert auth.renewals == 1


@respx.mock
def test_static_credentials_and_vendor_headers_are_sent() -> None:
    route = respx.get(f"{BASE}/metadata").mock(return_value=httpx.Response(200, json={}))
    client([], BearerAuth("abc"), headers={"Epic-Client-ID": "cid"}).request(
        "GET", f"{BASE}/metadata"
    )
    sent = route.calls.last.request.headers
    assert sent["Authorization"] == "Bearer abc" and sent["Epic-Client-ID"] == "cid"
    client([], BasicAuth("u", "p")).request("GET", f"{BASE}/metadata")
    assert route.calls.last.request.headers["Authorization"] == "Basic dTpw"


@respx.mock
def test_a_non_json_200_is_temporary() -> None:
    respx.get(f"{BASE}/Encounter").mock(
        side_effect=[
            httpx.Response(200, text="<html>gateway</html>"),
            httpx.Response(200, json=bundle([])),
        ]
    )
    body, _ = client([]).get_json(f"{BASE}/Encounter")
    assert body["resourceType"] == "Bundle"


@respx.mock
def test_paging_follows_next_links_in_a_loop() -> None:
    pages = 50
    for n in range(pages):
        nxt = f"{BASE}/Encounter?page={n + 1}" if n + 1 < pages else None
        respx.get(f"{BASE}/Encounter", params={"page": str(n)}).mock(
            return_value=httpx.Response(200, json=bundle([f"e{n}"], nxt))
        )
    seen = [
        e["resource"]["id"]
        for page in iter_pages(client([]), f"{BASE}/Encounter", {"page": "0"})
        for e in page.entries
    ]
    assert seen == [f"e{n}" for n in range(pages)]


@respx.mock
def test_a_repeating_next_link_stops_the_search() -> None:
    respx.get(f"{BASE}/Encounter").mock(
        return_value=httpx.Response(200, json=bundle(["e1"], f"{BASE}/Encounter?page=2"))
    )
    with pytest.raises(Fatal, match="repeats"):
        list(iter_pages(client([]), f"{BASE}/Encounter"))


def test_links_to_other_origins_are_refused_unless_rebased() -> None:
    http = client([])
    assert http.follow("Encounter?page=2") == f"{BASE}/Encounter?page=2"
    assert http.follow(f"{BASE}/Encounter?page=2") == f"{BASE}/Encounter?page=2"
    with pytest.raises(Fatal, match="refusing"):
        http.follow("https://elsewhere.test/fhir/Encounter?page=2")
    rebased = client([], rebase_links=True)
    assert (
        rebased.follow("http://10.0.0.5:8080/fhir/Encounter?page=2")
        == "https://ehr.test/fhir/Encounter?page=2"
    )


@respx.mock
def test_downloads_go_through_a_temporary_file_and_retry(tmp_path: Path) -> None:
    respx.get(f"{BASE}/files/Encounter.ndjson").mock(
        side_effect=[
            httpx.RemoteProtocolError("dropped"),
            httpx.Response(200, content=b'{"a":1}\n' * 3),
        ]
    )
    dest = tmp_path / "Encounter.0.ndjson"
    size = client([]).download(f"{BASE}/files/Encounter.ndjson", dest)
    assert size == 24 and dest.read_bytes().count(b"\n") == 3
    assert not list(tmp_path.glob("*.part"))


@respx.mock
def test_unauthorized_downloads_carry_no_token(tmp_path: Path) -> None:
    route = respx.get("https://bucket.test/f.ndjson").mock(
        return_value=httpx.Response(200, content=b"{}\n")
    )
    client([], BearerAuth("secret")).download(
        "https://bucket.test/f.ndjson", tmp_path / "f", authorized=False
    )
    assert "Authorization" not in route.calls.last.request.headers
