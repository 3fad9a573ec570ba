"""Imports as data: each view collects what its generated module uses; templates print the block.

``Imports`` holds the ``from module import name`` pairs of one module and prints them the way
``ruff check --select I`` (isort rules, line length 120) wants them: ``__future__`` first, then the
standard library, third-party packages, first-party packages and relative imports, one blank line
between sections; ``import x`` before ``from x import ...``; names ordered constants, classes, then
the rest; a line too long is wrapped one name per line. ``tests/test_imports.py`` runs ruff's F and I
rules over ``generated/`` to hold this (and the views) to it.

A view adds names either explicitly (``add``) or by handing every annotation and expression it
builds to ``use``, which picks out the identifiers that a ``Symbols`` table knows how to import
(model names from ``.models``, ``Decimal`` from ``decimal``...).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LINE_LENGTH = 120
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")

#: Where a name used in generated code comes from: name -> module.
Symbols = Mapping[str, str]

#: Standard-library and typing names that views use in annotations and expressions.
STDLIB_SYMBOLS: dict[str, str] = {
    "Any": "typing",
    "Annotated": "typing",
    "Sequence": "collections.abc",
    "Decimal": "decimal",
    "datetime": "datetime",
    "UTC": "datetime",
    "builtins": "",  # ``import builtins``
}


def _section(module: str, first_party: frozenset[str]) -> int:
    if module == "__future__":
        return 0
    if module.startswith("."):
        return 4
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return 1
    return 3 if top in first_party else 2


def _member_key(name: str) -> tuple[int, str, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then everything else; case-insensitive."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def _module_key(module: str) -> tuple[int, str, str]:
    """Relative imports furthest first (``..`` before ``.``), then by name, case-insensitive."""
    level = len(module) - len(module.lstrip("."))
    return -level, module.lstrip(".").lower(), module


@dataclass
class Imports:
    """The imports of one generated module."""

    #: Top-level packages of the project the module belongs to (e.g. a scaffold's ``ocpi_server_cpo_v2_2_1``).
    first_party: frozenset[str] = frozenset()
    future: bool = True
    _names: dict[str, set[str]] = field(default_factory=dict)  # module -> names ("" = ``import name``)

    def add(self, module: str, *names: str) -> Imports:
        """``from module import names`` (``module == ""``: ``import name``)."""
        self._names.setdefault(module, set()).update(names)
        return self

    def use(self, symbols: Symbols, *code: str | None) -> Imports:
        """Add the names of ``symbols`` that the annotations or expressions ``code`` use."""
        for text in code:
            if text:
                for name in _IDENT.findall(_STRING.sub('""', text)):
                    if name in symbols:
                        self.add(symbols[name], name)
        return self

    def use_all(self, symbols: Symbols, code: Iterable[str | None]) -> Imports:
        return self.use(symbols, *code)

    def names(self, module: str) -> list[str]:
        return sorted(self._names.get(module, ()), key=_member_key)

    def lines(self) -> list[str]:
        sections: dict[int, list[str]] = {}
        if self.future:
            sections[0] = ["from __future__ import annotations"]
        plain = sorted(self._names.get("", ()), key=str.lower)
        for name in plain:
            sections.setdefault(_section(name, self.first_party), []).append(f"import {name}")
        for module in sorted((m for m in self._names if m), key=_module_key):
            plain_names = [n for n in self.names(module) if " as " not in n]
            aliased = [n for n in self.names(module) if " as " in n]
            out = sections.setdefault(_section(module, self.first_party), [])
            if plain_names:
                line = f"from {module} import {', '.join(plain_names)}"
                if len(line) > LINE_LENGTH:
                    line = f"from {module} import (\n" + "".join(f"    {n},\n" for n in plain_names) + ")"
                out.append(line)
            out.extend(f"from {module} import {n}" for n in aliased)
        return ["\n".join(sections[k]) for k in sorted(sections)]

    def __str__(self) -> str:
        """The import block, sections separated by a blank line, without a trailing newline."""
        return "\n\n".join(self.lines())


#: The line a template prints where ``insert_imports`` puts the import block it works out.
IMPORTS_MARKER = "# ocpi-codegen: imports"
_COMMENT = re.compile(r"#[^\n]*")


def insert_imports(text: str, symbols: Symbols, base: Imports) -> str:
    """Replace the ``IMPORTS_MARKER`` line of a rendered module with its import block: ``base`` plus
    every name of ``symbols`` that the code after the marker uses (strings and comments do not count).

    For modules whose body is built from many view strings (a server's handlers and routers), this
    collects the imports from exactly what was printed, so none is missing or unused.
    """
    head, marker, body = text.partition(IMPORTS_MARKER)
    if not marker:
        raise ValueError(f"template output has no {IMPORTS_MARKER!r} line")
    code = _COMMENT.sub("", _STRING.sub('""', body.replace('"""', '"')))
    defined = set(re.findall(r"^(?:class|def|async def)\s+([A-Za-z_]\w*)", body, re.M))
    used = {name for name in _IDENT.findall(code) if name in symbols and name not in defined}
    imports = Imports(base.first_party, base.future, {m: set(n) for m, n in base._names.items()})
    for name in used:
        imports.add(symbols[name], name)
    return head + str(imports) + body


__all__ = ["IMPORTS_MARKER", "STDLIB_SYMBOLS", "Imports", "Symbols", "insert_imports"]
