"""The console's guard: it answers only requests addressed to it on localhost, and changes
something (redrive, replay, publish: POSTs) only for its own pages.

- Host: only `127.0.0.1:<port>` or `localhost:<port>`, so a site whose name resolves to
  127.0.0.1 (DNS rebinding) cannot read the console through the browser.
- A POST needs the console's per-run token (the page's `<meta name="csrf-token">`, sent as
  the `X-Console-Token` header or the form field `token`) and an `Origin` that is the
  console's own: a page on another site can make the browser send a POST, but cannot read
  the token, and its Origin is its own (OWASP CSRF Prevention Cheat Sheet: synchronizer
  token, verifying the origin with standard headers).
- Pages may not be framed (clickjacking) and run only the console's own script.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

TOKEN_HEADER = "X-Console-Token"
TOKEN_FIELD = "token"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it a browser sends `Origin: null` on the console's own POSTs.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Guard:
    """The console's port (known once it listens) and its token."""

    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def origins(self) -> tuple[str, ...]:
        return (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")

    def host_refused(self, host: str) -> str | None:
        """Why a request for `host` is refused, or None."""
        if host in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return None
        return f"refused: the console answers only at {self.origins[0]} (Host was {host!r})"

    def post_refused(self, origin: str | None, token: str | None) -> str | None:
        """Why a POST is refused, or None."""
        if origin not in self.origins:
            sent = f"Origin was {origin!r}" if origin else "it sent no Origin"
            return f"refused: a POST must come from the console's own pages ({sent})"
        if not token or not hmac.compare_digest(token, self.token):
            return (
                f"refused: a POST must carry the console's token ({TOKEN_HEADER} header or "
                f"'{TOKEN_FIELD}' field, from the page's csrf-token meta tag)"
            )
        return None
