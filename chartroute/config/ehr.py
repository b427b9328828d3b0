"""The ``ehr:`` section of the practice YAML: how to reach the practice's EHR over FHIR R4.

A connection names a base URL, a vendor profile, and how to authenticate. Vendor profiles are
data (``chartroute/config/vendors/<name>.yaml``, documented in docs/connectors.md): each
records one EHR's habits — page size, which types accept ``_lastUpdated``, extra headers,
request quotas — and the practice file may override any field under ``profile:``.

Secrets never appear in the YAML: a secret field holds the *name* of an environment variable
(``env: EPIC_PRIVATE_KEY``) or of a Prefect Secret block (``prefect_secret: epic-key``); a
private key may also be a file path. The values are read only when a connection is opened.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from chartroute.config.base import StrictModel
from chartroute.config.secrets import BlockLoader, SecretRef, SecretUnavailable
from chartroute.fhir.extract import RULE_RESOURCE_TYPES

__all__ = ["BlockLoader", "SecretRef", "SecretUnavailable"]  # kept importable from here

#: The search parameter each type's date-window fallback uses when ``_lastUpdated`` is not
#: searchable: the resource's own clinical or administrative date.
DEFAULT_DATE_PARAMS: dict[str, str] = {
    "Encounter": "date",
    "DocumentReference": "date",
    "Composition": "date",
    "ServiceRequest": "authored",
    "DiagnosticReport": "issued",
    "Claim": "created",
    "ClaimResponse": "created",
    "Task": "authored-on",
    "Condition": "recorded-date",
    "QuestionnaireResponse": "authored",
}


AuthKind = Literal["none", "bearer", "basic", "smart-backend"]


class AuthSettings(StrictModel):
    """How chartroute authenticates to the EHR."""

    kind: AuthKind = Field(
        default="none",
        description="smart-backend (production), or bearer / basic / none for sandboxes.",
    )
    client_id: str | None = Field(default=None, description="SMART client id (smart-backend).")
    token_url: str | None = Field(
        default=None,
        description="Token endpoint; default: discovered from .well-known/smart-configuration.",
    )
    scopes: list[str] | None = Field(
        default=None,
        description="Scopes to request; default: system read/search of every type (plus Task "
        "create/update when write-back is on), in the vendor's scope style.",
    )
    private_key_file: str | None = Field(
        default=None, description="Path of the private key: a .pem file or a .jwks/.json JWKS."
    )
    private_key: SecretRef | None = Field(
        default=None,
        description="The private key (PEM or JWKS text) from the environment or Prefect.",
    )
    key_id: str | None = Field(
        default=None,
        description="kid of the key as registered; default: the JWK's kid or thumbprint.",
    )
    algorithm: Literal["RS384", "ES384"] | None = Field(
        default=None,
        description="Signing algorithm; default: from the key (RSA → RS384, EC → ES384).",
    )
    jku: str | None = Field(
        default=None, description="JWKS URL to put in the assertion header, if registered so."
    )
    token: SecretRef | None = Field(default=None, description="Static bearer token (bearer).")
    username: str | None = Field(default=None, description="User name (basic).")
    password: SecretRef | None = Field(default=None, description="Password (basic).")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> AuthSettings:
        if self.kind == "smart-backend":
            if not self.client_id:
                raise ValueError("client_id: required when kind is smart-backend")
            if (self.private_key_file is None) == (self.private_key is None):
                raise ValueError(
                    "give exactly one of private_key_file or private_key for smart-backend"
                )
        elif self.kind == "bearer" and self.token is None:
            raise ValueError("token: required when kind is bearer")
        elif self.kind == "basic" and (not self.username or self.password is None):
            raise ValueError("username and password: required when kind is basic")
        return self


class VendorProfile(StrictModel):
    """One EHR's habits. Shipped profiles live in chartroute/config/vendors/*.yaml."""

    name: str = Field(description="Profile name, as used in `ehr.vendor`.")
    description: str = Field(default="", description="What the profile is for, with sources.")
    page_size: int = Field(default=100, ge=1, le=1000, description="_count per search page.")
    last_updated: Literal["capability", "all", "none"] | list[str] = Field(
        default="capability",
        description="Types that accept `_lastUpdated` searches: `capability` (as the server's "
        "CapabilityStatement says), `all`, `none`, or a list of types.",
    )
    date_params: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_DATE_PARAMS),
        description="Search parameter per type for the date-window fallback.",
    )
    unavailable_types: list[str] = Field(
        default_factory=list, description="Rule types this EHR does not expose; never searched."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra headers on every request; `{client_id}` is replaced by the client id.",
    )
    requests_per_second: float = Field(
        default=10.0, gt=0, description="Client-side request rate cap."
    )
    concurrency: int = Field(default=4, ge=1, le=64, description="Requests in flight at most.")
    history_deletes: bool = Field(
        default=False,
        description="Find deleted resources with `[type]/_history?_since` (needs history-type).",
    )
    summary_count: bool = Field(
        default=True,
        description="Ask `_summary=count` whether a type changed before reading it.",
    )
    sort: str | None = Field(
        default=None,
        description="`_sort` for searches, e.g. `_id`, on servers whose offset paging shifts "
        "when resources change mid-read.",
    )
    scope_style: Literal["v1", "v2"] = Field(
        default="v2", description="SMART scope syntax: v1 `system/*.read`, v2 `system/*.rs`."
    )
    token_400_is_temporary: bool = Field(
        default=False, description="Treat HTTP 400 from the token endpoint as temporary (Epic)."
    )
    token_lifetime_seconds: int | None = Field(
        default=None,
        description="Documented token lifetime, for reference; the server's expires_in wins.",
    )
    bulk_type_filter: bool = Field(default=True, description="Send `_type` on $export kick-off.")
    bulk_for_daily_sync: bool = Field(
        default=True,
        description="False when the vendor asks that $export be kept for initial or monthly "
        "loads; chartroute then warns when an incremental export is run.",
    )
    rebase_links: bool = Field(
        default=False,
        description="Rewrite next/status links onto the configured base URL (servers behind "
        "proxies that report an internal host).",
    )
    retry_after_cap_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Longest Retry-After waited out in-process; longer ones fail the task.",
    )

    @field_validator("unavailable_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - RULE_RESOURCE_TYPES)
        if unknown:
            raise ValueError(f"not a type the rules read: {', '.join(unknown)}")
        return value

    def searches_last_updated(self, resource_type: str, capability: bool | None) -> bool:
        """Whether this type is read incrementally by ``_lastUpdated`` (else by date window)."""
        if isinstance(self.last_updated, list):
            return resource_type in self.last_updated
        if self.last_updated == "capability":
            return capability is not False
        return self.last_updated == "all"


class BulkSettings(StrictModel):
    """Bulk Data `$export` for backfills and periodic full loads."""

    level: Literal["system", "patient", "group"] = Field(
        default="system",
        description="Export level: [base]/$export, Patient/$export or Group/[id]/$export.",
    )
    group_id: str | None = Field(default=None, description="Group id for level `group`.")
    work_dir: str | None = Field(
        default=None, description="Where exports are downloaded; default: $CHARTROUTE_HOME/exports."
    )
    max_wait_minutes: float = Field(
        default=360,
        gt=0,
        description="Give up polling (the task may retry and resume) after this long.",
    )
    poll_seconds: float = Field(
        default=5, gt=0, description="Poll interval when the server sends no Retry-After."
    )

    @model_validator(mode="after")
    def _group_needs_id(self) -> BulkSettings:
        if self.level == "group" and not self.group_id:
            raise ValueError("group_id: required when level is group")
        return self


class WritebackSettings(StrictModel):
    """Mirror open work items into the EHR as FHIR Tasks."""

    enabled: bool = Field(default=False, description="Write work items back as Tasks.")
    identifier_system: str = Field(
        default="https://chartroute.org/fhir/work-item",
        description="Task.identifier system; the value is the work item id.",
    )
    code_system: str = Field(
        default="https://chartroute.org/fhir/CodeSystem/work-item",
        description="CodeSystem of Task.code (chartroute's own) and businessStatus (the category).",
    )


class Ehr(StrictModel):
    """The practice's EHR connection."""

    base_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$", description="FHIR R4 base URL of the EHR."
    )
    vendor: str = Field(default="generic", description="Vendor profile name (docs/connectors.md).")
    profile: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides of the vendor profile's fields for this practice.",
    )
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cursor_overlap_seconds: float = Field(
        default=60,
        ge=0,
        description="Each `_lastUpdated` cursor is set this far before the server time of the "
        "read, so writes committing while we read are not missed; re-reads are deduplicated.",
    )
    date_window_days: int = Field(
        default=30, ge=1, description="Days re-read each sync for types without `_lastUpdated`."
    )
    timeout_seconds: float = Field(default=60, gt=0, description="Per-request timeout.")
    bulk: BulkSettings = Field(default_factory=BulkSettings)
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _profile_resolves(self) -> Ehr:
        profiles = vendor_profiles()
        if self.vendor not in profiles:
            raise ValueError(
                f"vendor: unknown profile {self.vendor!r} (known: {', '.join(sorted(profiles))})"
            )
        self.resolved_profile()
        return self

    def resolved_profile(self) -> VendorProfile:
        """The vendor profile with this practice's overrides applied."""
        base = vendor_profiles()[self.vendor].model_dump()
        try:
            return VendorProfile.model_validate({**base, **self.profile})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"profile.{where}: {first['msg']}") from None

    def scopes(self) -> list[str]:
        """Scopes to request: as configured, or read everything (+ Task writes for write-back)."""
        if self.auth.scopes is not None:
            return list(self.auth.scopes)
        v1 = self.resolved_profile().scope_style == "v1"
        scopes = ["system/*.read" if v1 else "system/*.rs"]
        if self.writeback.enabled:
            scopes.append("system/Task.write" if v1 else "system/Task.cu")
        return scopes


@lru_cache(maxsize=1)
def vendor_profiles() -> dict[str, VendorProfile]:
    """Every shipped vendor profile by name."""
    out: dict[str, VendorProfile] = {}
    folder = resources.files("chartroute.config").joinpath("vendors")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        profile = VendorProfile.model_validate(data)
        out[profile.name] = profile
    return out
