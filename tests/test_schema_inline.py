"""Spec files are validated against ``spec/schema.json`` with its ``$defs`` references inlined (for
speed); every error must be the one the schema as written gives (instance path, keyword, message)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from generator.loader import _inline_refs, _validator, parse_file
from generator.paths import SCHEMA_PATH, SPEC_ROOT

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PLAIN = jsonschema.Draft202012Validator(SCHEMA)
FILES = sorted(p for p in SPEC_ROOT.glob("*/*.yaml"))


def _errors(validator: Any, data: Any) -> list[tuple[tuple[Any, ...], str, str]]:
    return sorted((tuple(e.absolute_path), str(e.validator), e.message) for e in validator.iter_errors(data))


def _nodes(data: Any, out: list[Any]) -> list[Any]:
    if isinstance(data, dict):
        out.append(data)
        for value in data.values():
            _nodes(value, out)
    elif isinstance(data, list):
        out.append(data)
        for value in data:
            _nodes(value, out)
    return out


def _broken(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``data`` with one fault each: an unknown key, a missing key, a wrong type, a bad value."""
    variants = []
    count = len(_nodes(data, []))
    for index in range(0, count, max(1, count // 12)):
        for fault in ("unknown", "missing", "type", "value"):
            copied = copy.deepcopy(data)
            node = _nodes(copied, [])[index]
            if isinstance(node, dict) and node:
                key = next(iter(node))
                if fault == "unknown":
                    node["bogus_key"] = 1
                elif fault == "missing":
                    del node[key]
                elif fault == "type":
                    node[key] = 12.5
                else:
                    node[key] = "Not A Valid Value!"
            elif isinstance(node, list):
                node.append({"bogus": True} if fault != "type" else 3)
            variants.append(copied)
    return variants


def test_the_inlined_schema_has_no_references_left() -> None:
    assert '"$ref"' not in json.dumps({k: v for k, v in _inline_refs(SCHEMA, SCHEMA["$defs"]).items() if k != "$defs"})
    assert _validator().schema is not SCHEMA


@pytest.mark.parametrize("path", FILES[:: max(1, len(FILES) // 16)], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_errors_are_those_of_the_schema_as_written(path: Any) -> None:
    loaded, problems = parse_file(path, path.name)
    assert loaded is not None and not problems
    assert _errors(_validator(), loaded.data) == _errors(PLAIN, loaded.data) == []
    seen = 0
    for broken in _broken(loaded.data):
        expected = _errors(PLAIN, broken)
        assert _errors(_validator(), broken) == expected
        seen += bool(expected)
    assert seen > 10  # the faults were found


def test_a_recursive_definition_keeps_its_references() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}
    schema = {"$ref": "#/$defs/node", "$defs": {"node": node}}
    with pytest.raises(RecursionError):
        _inline_refs(schema, schema["$defs"])
