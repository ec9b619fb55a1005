"""The one credential detector: what gives a secret away in a string, and how to mask it out of any message.

A spec never holds a secret value (secrets are references: `{env: NAME}` or `{file: /path}`), so a string that
looks like one is refused wherever it is, and no message monstack prints repeats it:

- URLs of token-bearing webhooks (Slack, Teams/Workflows, Telegram bots, Discord);
- credential query parameters (`token=`, `access_token=`, `api_key=`, `sig=`, `password=`, ...; also with a
  prefix such as `auth_token=` or `x-api-key=`);
- userinfo in a URL of any scheme (`https://user:pass@`, `redis://:pass@`, `https://TOKEN@`);
- known token shapes: Slack `xox[abpr]-`, GitHub `ghp_`/`gho_`/`ghs_`/`github_pat_`, GitLab `glpat-`, AWS
  access key ids `AKIA...`/`ASIA...`, JSON Web Tokens `eyJ....eyJ....`, private keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Fields whose value is a secret reference: a problem there may sit next to a pasted secret, so messages about
# them never repeat the value, and the source line is not shown.
SECRET_FIELDS = frozenset({"api_url", "auth_password", "routing_key", "bearer_token", "password", "webhook_url",
                           "api_key", "bot_token", "admin_password", "broker_url", "url"})
HINT = "reference it instead: `{env: NAME}` (an environment variable) or `{file: /path/to/secret}`"

_PARAMS = (r"token|access_token|refresh_token|id_token|api_key|apikey|api-key|key|secret|client_secret|password"
           r"|passwd|pwd|pass|sig|signature|auth|authorization|credential|credentials|session|private_token")
_RULES: list[tuple[str, re.Pattern[str], int]] = [  # (what, pattern, group holding the secret)
    ("a token-bearing webhook URL", re.compile(
        r"(?:hooks\.slack\.com/services/|webhook\.office\.com/webhookb2/|\.logic\.azure\.com[^\s]*?[?&]sig="
        r"|\.powerplatform\.com/[^\s]*|api\.telegram\.org/bot|discord(?:app)?\.com/api/webhooks/)([^\s\"'<>]+)",
        re.I), 1),
    ("a credential in the query string", re.compile(
        rf"[?&;](?:[a-z0-9]+[_.-])*(?:{_PARAMS})=([^&#\s\"'<>]+)", re.I), 1),
    ("a user name or password in the URL",  # (ssh://git@host is a public convention, not a secret)
     re.compile(r"\b[a-z][a-z0-9+.-]*://(?!git@)([^/?#@\s\"'<>]+)@", re.I), 1),
    ("a Slack token", re.compile(r"\b(xox[abprse]-[A-Za-z0-9-]{8,})"), 1),
    ("a Slack app token", re.compile(r"\b(xapp-[A-Za-z0-9-]{8,})"), 1),
    ("a GitHub token", re.compile(r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), 1),
    ("a GitLab token", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,})"), 1),
    ("an AWS access key id", re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1),
    ("a JSON Web Token", re.compile(r"\b(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"), 1),
    ("a private key", re.compile(r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)"), 1),
]


@dataclass(frozen=True)
class Finding:
    what: str  # e.g. "a GitHub token"
    start: int  # where the secret part is in the text
    end: int


def find(text: str) -> Finding | None:
    """The first credential `text` gives away, or None."""
    found = [Finding(what, m.start(group), m.end(group)) for what, pattern, group in _RULES
             for m in [pattern.search(text)] if m]
    return min(found, key=lambda f: f.start) if found else None


def mask(text: str) -> str:
    """`text` with every credential replaced by `***` (what shows where it was stays)."""
    if not text:
        return text
    for _what, pattern, group in _RULES:
        text = pattern.sub(lambda m: m.group(0)[:m.start(group) - m.start(0)] + "***"
                           + m.group(0)[m.end(group) - m.start(0):], text)
    return text
