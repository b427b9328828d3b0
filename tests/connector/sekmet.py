"""A sekmet-fhir server on 127.0.0.1 for the connector tests: start, load, edit, stop.

Started as its own process (``sekmet serve``) on a free port, with its ``base_url`` set to the
address clients will use (the server itself, or a fault proxy in front of it) so paging and
status links point back the right way. The test client talks SMART Backend Services; the
fixture edits data over Basic auth, as a separate admin user.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import yaml

ADMIN = ("admin", "admin-password")
CLIENT_ID = "chartroute-test"
STATIC_TOKEN = "static-test-token"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SekmetServer:
    """One sekmet-fhir process and an admin client to it."""

    def __init__(
        self,
        root: Path,
        *,
        public_jwks: list[dict[str, Any]],
        port: int | None = None,
        base_url: str | None = None,
        token_lifetime: int = 3600,
        simulator: bool = False,
        simulator_delay: float = 1.0,
        scopes: str = "system/*.*",
    ):
        self.root = root
        self.port = port or free_port()
        self.base_url = (base_url or f"http://127.0.0.1:{self.port}").rstrip("/") + "/fhir"
        self.direct_url = f"http://127.0.0.1:{self.port}/fhir"
        self.settings = {
            "base_url": self.base_url,
            "host": "127.0.0.1",
            "port": self.port,
            "data_dir": str(root / "data"),
            "log_inbound": False,
            "simulator": {"enabled": simulator, "delay_seconds": simulator_delay},
            "validation": {"inbound": "warn"},
            "server_auth": {
                "types": ["smart", "basic", "bearer"],
                "users": {ADMIN[0]: ADMIN[1]},
                "tokens": [STATIC_TOKEN],
                "token_lifetime": token_lifetime,
                "smart_clients": [
                    {"client_id": CLIENT_ID, "jwks": {"keys": public_jwks}, "scopes": scopes}
                ],
            },
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.admin = httpx.Client(auth=ADMIN, timeout=60)

    def start(self) -> SekmetServer:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = self.root / "settings.yaml"
        settings.write_text(yaml.safe_dump(self.settings))
        log = (self.root / "server.log").open("wb")
        command = [sys.executable, "-c", "from sekmet.cli import app; app()", "serve"]
        command += ["--config", str(settings), "--host", "127.0.0.1", "--port", str(self.port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKMET_")}
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.direct_url}/metadata", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"sekmet did not start: {(self.root / 'server.log').read_text()[-2000:]}"
        )

    def stop(self) -> None:
        self.admin.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    # ---- data, as an admin editing the EHR ----------------------------------------------

    def load(self, resources: Iterable[dict[str, Any]], chunk: int = 500) -> int:
        """PUT every resource (keeping its id) in batch Bundles; the simulator is not woken."""
        batch: list[dict[str, Any]] = []
        count = 0
        for resource in resources:
            batch.append(
                {
                    "resource": resource,
                    "request": {
                        "method": "PUT",
                        "url": f"{resource['resourceType']}/{resource['id']}",
                    },
                }
            )
            if len(batch) >= chunk:
                count += self._send_batch(batch)
                batch = []
        if batch:
            count += self._send_batch(batch)
        return count

    def _send_batch(self, entries: list[dict[str, Any]]) -> int:
        response = self.admin.post(
            self.direct_url,
            json={"resourceType": "Bundle", "type": "batch", "entry": entries},
            headers={"Content-Type": "application/fhir+json", "x-sekmet-simulate": "off"},
        )
        response.raise_for_status()
        statuses = [e["response"]["status"] for e in response.json()["entry"]]
        bad = [s for s in statuses if not s.startswith("20")]
        assert not bad, bad[:5]
        return len(statuses)

    def put(self, resource: dict[str, Any], *, simulate: bool = False) -> dict[str, Any]:
        headers = {"Content-Type": "application/fhir+json"}
        if not simulate:
            headers["x-sekmet-simulate"] = "off"
        url = f"{self.direct_url}/{resource['resourceType']}/{resource['id']}"
        response = self.admin.put(url, content=json.dumps(resource), headers=headers)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def get(self, rtype: str, rid: str) -> dict[str, Any]:
        response = self.admin.get(f"{self.direct_url}/{rtype}/{rid}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def delete(self, rtype: str, rid: str) -> None:
        self.admin.delete(f"{self.direct_url}/{rtype}/{rid}").raise_for_status()

    def search(self, rtype: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every match of a search, all pages."""
        out: list[dict[str, Any]] = []
        url: str | None = f"{self.direct_url}/{rtype}"
        query: dict[str, str] | None = {"_count": "1000", **(params or {})}
        while url:
            bundle = self.admin.get(url, params=query).raise_for_status().json()
            out += [
                e["resource"]
                for e in bundle.get("entry", [])
                if e.get("search", {}).get("mode") == "match"
            ]
            nxt = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
            url = nxt[0].replace(self.base_url, self.direct_url) if nxt else None
            query = None
        return out


def read_ndjson_dir(folder: Path) -> list[dict[str, Any]]:
    """Every resource of a Bulk Data folder."""
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.ndjson")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out
