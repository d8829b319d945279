"""Settings: ``phiward.toml`` then ``PHIWARD_*`` environment variables, then explicit overrides.

Top-level keys map to ``PHIWARD_<KEY>`` (``PHIWARD_HOME``, ``PHIWARD_MIN_CONFIDENCE``); keys of a
section map to ``PHIWARD_<SECTION>__<KEY>`` (``PHIWARD_AUDIT__DATABASE_URL``). Each domain package
reads its own section through :meth:`Settings.section`, so ``core`` need not know every option.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phiward.core.fingerprint import Fingerprinter
from phiward.errors import ConfigError

SETTINGS_FILE = "phiward.toml"
ENV_PREFIX = "PHIWARD_"


def default_home() -> Path:
    """``PHIWARD_HOME``, else ``~/.phiward``: keys, fingerprint secret, caches."""
    return Path(os.environ.get("PHIWARD_HOME") or Path.home() / ".phiward")


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Immutable; build a new one with :func:`load_settings`."""

    home: Path = field(default_factory=default_home)
    min_confidence: float = 0.5
    workers: int | None = None
    fingerprint_key: str | None = None
    log_level: str = "WARNING"
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: Path | None = None

    def section(self, name: str) -> Mapping[str, Any]:
        """The settings of one domain (``scan``, ``crypto``, ``audit``, ``cloud``...)."""
        return self.sections.get(name, {})

    @property
    def fingerprint_key_path(self) -> Path:
        return self.home / "fingerprint.key"

    def fingerprinter(self) -> Fingerprinter:
        """The per-install fingerprinter: ``PHIWARD_FINGERPRINT_KEY`` (hex) or the key file."""
        if self.fingerprint_key:
            try:
                return Fingerprinter(bytes.fromhex(self.fingerprint_key))
            except ValueError as exc:
                raise ConfigError(
                    "PHIWARD_FINGERPRINT_KEY must be hex of at least 16 bytes"
                ) from exc
        return Fingerprinter.from_key_file(self.fingerprint_key_path)


_SCALARS: dict[str, type] = {
    "home": Path,
    "min_confidence": float,
    "workers": int,
    "fingerprint_key": str,
    "log_level": str,
}


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = _SCALARS[key]
    try:
        if kind is Path:
            return Path(str(value)).expanduser()
        if kind is float:
            v = float(value)
            if key == "min_confidence" and not 0.0 <= v <= 1.0:
                raise ValueError("must be between 0 and 1")
            return v
        if kind is int:
            n = int(value)
            if n < 1:
                raise ValueError("must be at least 1")
            return n
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: invalid value for {key!r}: {exc}") from exc


def _find_file(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / SETTINGS_FILE
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings: file (``path`` or the nearest ``phiward.toml``), env, overrides."""
    env = os.environ if env is None else env
    file = path if path is not None else _find_file(cwd or Path.cwd())
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"settings file {file} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {file} is not valid TOML: {exc}") from exc

    values: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            sections[key] = dict(value)
        elif key in _SCALARS:
            values[key] = _coerce(key, value, str(file))
        else:
            raise ConfigError(f"{file}: unknown setting {key!r}")

    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if "__" in key:
            section, _, sub = key.partition("__")
            sections.setdefault(section, {})[sub] = value
        elif key in _SCALARS:
            values[key] = _coerce(key, value, name)

    for key, value in overrides.items():
        if value is None:
            continue
        if key not in _SCALARS:
            raise TypeError(f"unknown setting {key!r}")
        values[key] = _coerce(key, value, "override")

    return Settings(**values, sections=sections, source=file)
