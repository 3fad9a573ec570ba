"""Where the bundled spec transcriptions and templates live.

In a source checkout (or an editable install) they are the top-level ``spec/`` and ``templates/``
folders; in a wheel they are shipped inside the package as ``generator/_data/``. The hand-written
runtime is the package ``ocpi_runtime`` (``runtime/ocpi_runtime`` in a checkout), installed with us.
"""

from __future__ import annotations

import re
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _resource(name: str) -> Path:
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    return _CHECKOUT / name


def _runtime_root() -> Path:
    """The ``ocpi_runtime`` package folder: ``runtime/ocpi_runtime`` in a checkout, installed beside us from a wheel."""
    import ocpi_runtime

    return Path(ocpi_runtime.__file__).resolve().parent


SPEC_ROOT = _resource("spec")
TEMPLATES_ROOT = _resource("templates")
SCHEMA_PATH = SPEC_ROOT / "schema.json"
RUNTIME_ROOT = _runtime_root()


VERSION_NAME = re.compile(r"^[0-9]+(\.[0-9]+)+$")
#: An earlier edition kept beside its version: the version, a dash, the edition's name.
EDITION_NAME = re.compile(r"^[0-9]+(\.[0-9]+)+-[A-Za-z0-9][A-Za-z0-9.-]*$")


def available_versions(spec_root: Path = SPEC_ROOT) -> list[str]:
    """Version folders (named like 2.2.1) that have an index.yaml, oldest first.

    Other folders (``latest/``, ``drafts/``) are not versions and are skipped; an earlier edition kept
    beside its version (``2.3.0-booking-1.0``) is listed by ``available_editions`` and generated only
    on request. A spec root that is missing or unreadable has none.
    """
    try:
        entries = list(spec_root.iterdir())
    except OSError:
        return []
    found = [p.name for p in entries if VERSION_NAME.match(p.name) and (p / "index.yaml").is_file()]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def available_editions(spec_root: Path = SPEC_ROOT) -> list[str]:
    """Every loadable folder: the versions, then earlier editions kept beside them (``2.3.0-booking-1.0``)."""
    versions = available_versions(spec_root)
    try:
        entries = list(spec_root.iterdir())
    except OSError:
        return versions
    others = sorted(p.name for p in entries if EDITION_NAME.match(p.name) and (p / "index.yaml").is_file())
    return versions + others
