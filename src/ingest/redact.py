"""Credentials never shown: one function masks them in every URL printed, logged or served.

Feed URLs may carry `user:password@` (private feeds) and database URLs a password, in the
authority or as `?password=`. Everything that shows a URL (CLI tables and messages, logs, the
API, error lines) passes it through `redact_url` first.
"""

from __future__ import annotations

import re

MASK = "***"
# Query parameters whose values are secrets (compared case-insensitively, `-` as `_`).
SECRET_PARAMS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "secret", "token", "access_token", "auth",
        "api_key", "apikey", "key", "sslpassword", "private_token",
    }
)  # fmt: skip
_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<authority>[^/?#]*)")
_PARAM = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;#]*)=(?P<value>[^&;#]*)")


def redact_url(url: str) -> str:
    """`url` with the password of its userinfo (all of it when there is no `user:`) and the
    values of secret query parameters replaced by `***`. The userinfo ends at the *last* `@` of
    the authority, so an unescaped `@` in a password does not leak its tail."""
    match = _AUTHORITY.match(url)
    if match is None:
        return _redact_params(url)
    authority = match["authority"]
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        shown = f"{user}:{MASK}" if colon else MASK
        authority = f"{shown}@{host}"
    return match["scheme"] + authority + _redact_params(url[match.end() :])


def _redact_params(rest: str) -> str:
    def mask(param: re.Match[str]) -> str:
        name = param["name"]
        if name.strip().lower().replace("-", "_") in SECRET_PARAMS and param["value"]:
            return f"{param['sep']}{name}={MASK}"
        return param[0]

    return _PARAM.sub(mask, rest)
