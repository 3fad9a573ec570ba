"""``ocpi-codegen diff``: golden reports on the fixture pair, and an empty diff of a version with itself."""

from __future__ import annotations

import json

import pytest

from generator.cli import main
from generator.diff import diff_specs, format_diff
from generator.paths import SPEC_ROOT, available_editions
from generator.pipeline import load_spec
from tests.conftest import FIXTURES, GOLDEN, assert_tree

BASIC = FIXTURES / "basic"


def test_fixture_diff_matches_golden(update_golden: bool) -> None:
    d = diff_specs(load_spec(BASIC, "1.0"), load_spec(BASIC, "1.1"))
    files = {
        f"1.0-1.1.{ext}": format_diff(d, fmt) for fmt, ext in (("text", "txt"), ("markdown", "md"), ("json", "json"))
    }
    assert_tree(GOLDEN / "diff", files, update_golden)


def test_fixture_diff_sees_each_kind_of_change() -> None:
    d = diff_specs(load_spec(BASIC, "1.0"), load_spec(BASIC, "1.1"))
    seen = {(c.category, c.op, c.aspect) for c in d.changes}
    assert ("type", "changed", "kind") in seen  # enum -> OpenEnum
    assert ("enum_value", "added", "") in seen
    assert ("field", "changed", "card") in seen and ("field", "changed", "length") in seen
    assert ("field", "added", "") in seen and ("field", "removed", "") in seen
    assert ("endpoint", "added", "") in seen and ("endpoint", "removed", "") in seen
    assert ("type", "removed", "") in seen


@pytest.mark.parametrize("version", available_editions(SPEC_ROOT))
def test_version_against_itself_is_empty(version: str) -> None:
    spec = load_spec(SPEC_ROOT, version)
    assert diff_specs(spec, spec).changes == ()


def test_editions_of_2_3_0_show_the_edition_2_corrections() -> None:
    d = diff_specs(load_spec(SPEC_ROOT, "2.3.0-booking-1.0"), load_spec(SPEC_ROOT, "2.3.0", extensions=["all"]))
    changes = {(c.category, c.subject, c.aspect): c for c in d.changes}
    assert changes[("version", "index", "edition")].after == "2.3.0-ed2"
    assert (
        changes[("field", "Location.address", "length")].before,
        changes[("field", "Location.address", "length")].after,
    ) == ("45", "255")
    assert changes[("field", "SignedValue.plain_data", "length")].after == "5000"
    assert ("module", "invoicereconciliation", "") in changes and ("extension", "bookings", "") in changes
    assert changes[("field", "Calendar.step_size", "")].op == "removed"  # Bookings 1.0 -> 1.1


def test_cli_json_is_stable_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--spec-root", str(BASIC), "diff", "1.0", "1.1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["from"] == "1.0" and data["to"] == "1.1" and data["count"] == len(data["changes"])
    assert set(data["changes"][0]) == {"category", "subject", "op", "aspect", "before", "after"}


def test_interfaces_are_matched_across_the_2_1_1_role_rename() -> None:
    d = diff_specs(load_spec(SPEC_ROOT, "2.1.1"), load_spec(SPEC_ROOT, "2.2"))
    changes = {(c.category, c.subject, c.aspect): c for c in d.changes}
    assert changes[("interface", "tokens.RECEIVER", "role")].before == "CPO"  # the CPO's tokens interface receives
    assert changes[("interface", "locations.SENDER", "role")].before == "CPO"
    body = changes[("endpoint", "commands.SENDER POST /", "body")]
    assert (body.before, body.after) == ("CommandResponse [1]", "CommandResult [1]")
    assert changes[("version", "index", "token_base64")].after == "True"
    assert not any(c.category == "interface" and c.op == "removed" for c in d.changes)
