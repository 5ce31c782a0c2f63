"""
Errors of Wire's own APIs (the token API, the internal routes), as Wire's services answer them:
a status and the body {"code", "label", "message"} with Content-Type application/json. SCIM
resources keep RFC 7644's error body (gateway/scim/errors.py); the one middleware
(gateway/web/middlewares.py) renders both.
"""

from __future__ import annotations


class WireError(Exception):
    """A failure a caller of one of Wire's APIs sees: status, Wire's error label and a message."""

    def __init__(self, status: int, label: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {label}: {message}")
        self.status = status
        self.label = label
        self.message = message
        self.headers = headers or {}

    def to_body(self) -> dict[str, object]:
        return {"code": self.status, "label": self.label, "message": self.message}


# Labels for the gateway's own failures when they surface on one of Wire's APIs.
LABEL_OF_STATUS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
    500: "server-error",
    502: "bad-gateway",
    503: "service-unavailable",
    504: "gateway-timeout",
}


def wire_error_of(status: int, message: str, *, headers: dict[str, str] | None = None) -> WireError:
    """A WireError for a failure known only by its status (a SCIM error, an HTTP exception)."""
    label = LABEL_OF_STATUS.get(status, "client-error" if status < 500 else "server-error")
    return WireError(status, label, message, headers=headers)
