"""What went wrong talking to an EHR, as two types: worth retrying, or not.

The HTTP layer retries a ``Temporary`` failure itself a few times, then raises it; the Prefect
task above decides from the type alone whether another attempt later is worth it. ``Fatal``
means retrying cannot help (bad credentials, a forbidden scope, a malformed request, a
resource type the server does not have) and a person must act. Messages name the request and
the status, never a response body, which may hold patient data.
"""

from __future__ import annotations


class FhirClientError(Exception):
    """A failed exchange with a FHIR server or its token endpoint."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status = status
        self.url = url


class Temporary(FhirClientError):
    """May pass by itself: 408, 429, 5xx, a timeout or a dropped connection."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after


class Fatal(FhirClientError):
    """Will fail again the same way: most 4xx, a refused token, a server that breaks protocol."""


class AuthorizationFailed(Fatal):
    """The server or its token endpoint refused our credentials."""


class UnusableKey(Fatal):
    """The configured signing key cannot be read or used: bad configuration (exit 2), which
    the practice file or the secret it names must fix, not a failure of the EHR."""


def is_temporary(error: BaseException) -> bool:
    """Whether another attempt may succeed: the one test of both the HTTP layer's retries and
    the Prefect tasks' retry condition for EHR errors."""
    return isinstance(error, Temporary)


TEMPORARY_STATUSES = frozenset({408, 429})


def is_temporary_status(status: int) -> bool:
    """408, 429 and every 5xx are worth another attempt; 401 is handled by re-authorizing."""
    return status in TEMPORARY_STATUSES or status >= 500


def error_for_status(
    status: int, method: str, url: str, retry_after: float | None = None
) -> FhirClientError:
    """The typed error of a failed response (the caller has already ruled out 2xx/3xx)."""
    message = f"{method} {redact_url(url)} answered HTTP {status}"
    if is_temporary_status(status):
        return Temporary(message, status=status, url=url, retry_after=retry_after)
    if status in (401, 403):
        return AuthorizationFailed(message, status=status, url=url)
    return Fatal(message, status=status, url=url)


def redact_url(url: str) -> str:
    """The URL without its query string: searches by identifier could otherwise reach a log."""
    return url.split("?", 1)[0]
