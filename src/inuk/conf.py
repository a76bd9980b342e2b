"""Typed readers of the environment.

Settings read the environment only through these helpers, so that a bad value
stops the service at start with a message that names the variable, instead of
surfacing later as an odd failure. Every variable is listed in ``VARIABLES``,
which the operations guide is checked against.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

#: Every environment variable the service reads, with a one-line description.
VARIABLES: dict[str, str] = {}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _declare(name: str, doc: str) -> str | None:
    VARIABLES[name] = doc
    return os.environ.get(name)


def env_str(name: str, default: str, doc: str) -> str:
    """A text value; unset or empty means the default."""
    value = _declare(name, doc)
    return value if value else default


def env_bool(name: str, default: bool, doc: str) -> bool:
    value = _declare(name, doc)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, doc: str, *, minimum: int | None = None) -> int:
    value = _declare(name, doc)
    if value is None:
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...], doc: str) -> str:
    """One of ``choices``; unset or empty means the default."""
    value = env_str(name, default, doc).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_list(name: str, default: list[str], doc: str) -> list[str]:
    value = _declare(name, doc)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, doc: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated IP addresses or networks (``10.0.0.5``, ``10.0.0.0/24``); unset: none."""
    networks = []
    for item in env_list(name, [], doc):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks, not {item!r}"
            ) from None
    return networks


def env_secret(name: str, doc: str) -> str | None:
    """A secret from ``NAME`` or from the file that ``NAME_FILE`` points to."""
    value = _declare(name, doc)
    file_name = _declare(f"{name}_FILE", f"file holding {name}")
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if file_name is not None:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from None
    return value


def secret_file(path: Path, nbytes: int = 50) -> str:
    """A random secret kept in ``path`` (mode 0600), made by whichever process comes first.

    Several processes may start at once on a fresh data directory (a web
    server and a worker); they must all end up with the same secret, and none
    may read a file that another is still writing. So the secret is written
    whole to a private temporary file (``mkstemp``: ``O_CREAT | O_EXCL``, mode
    0600) and then linked to its name, which fails if the name exists: the
    first link wins, and the others read what it wrote.
    """
    if not path.exists():
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(secrets.token_urlsafe(nbytes))
                stream.flush()
                os.fsync(stream.fileno())
            # If another process was first, its secret is the one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text(encoding="utf-8").strip()
