"""Optional extensions (OCPI 2.3.0 Payments and Bookings 1.1 on the edition 2 core).

A light check runs for every extension set (load, merge, documents valid, Python compiles, models
import); one heavy end-to-end run covers the set with every extension (mypy --strict on the client, and the
own tests of the scaffolds whose interfaces the extensions change).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from generator.cli import main
from generator.client import default_package
from generator.diff import diff_specs
from generator.errors import SpecError
from generator.extensions import available_extensions
from generator.ir import EnumType, ObjectType, Spec
from generator.openapi import path_collisions
from generator.paths import SPEC_ROOT, available_editions, available_versions
from generator.pipeline import generate, load_spec, render_files
from generator.server import roles_with_servers, server_files
from generator.writer import write_tree
from tests.blocking import sync

V = "2.3.0"
SETS = [(), ("payments",), ("bookings",), ("payments", "bookings")]


def _field(spec: Spec, type_name: str, name: str) -> object:
    t = spec.type(type_name)
    assert isinstance(t, ObjectType)
    return t.field_named(name)


def _values(spec: Spec, type_name: str) -> list[str]:
    t = spec.type(type_name)
    assert isinstance(t, EnumType)
    return [v.value for v in t.values]


def test_2_3_0_has_payments_and_bookings_and_the_default_is_the_core() -> None:
    assert available_extensions(SPEC_ROOT / V) == ["bookings", "payments"]
    core = load_spec(SPEC_ROOT, V)
    assert core.extensions == () and core.edition == "2.3.0-ed2" and core.label == V
    assert {m.id for m in core.modules} >= {"invoicereconciliation"} and not {"payments", "bookings"} & {
        m.id for m in core.modules
    }
    assert "2.3.0-booking-1.0" in available_editions(SPEC_ROOT) and "2.3.0-booking-1.0" not in available_versions(
        SPEC_ROOT
    )


@pytest.mark.parametrize("ext", SETS, ids=lambda s: "+".join(s) or "core")
def test_each_extension_set_merges_exactly_its_additions(ext: tuple[str, ...]) -> None:
    spec = load_spec(SPEC_ROOT, V, extensions=list(ext) or ["none"])
    assert [e.id for e in spec.extensions] == sorted(ext)
    modules = {m.id for m in spec.modules}
    assert ("payments" in modules) == ("payments" in ext) and ("bookings" in modules) == ("bookings" in ext)
    assert (_field(spec, "Tariff", "preauthorize_amount") is not None) == ("payments" in ext)
    assert (_field(spec, "CDR", "booking_id") is not None) == ("bookings" in ext)
    assert (_field(spec, "TariffRestrictions", "booking") is not None) == ("bookings" in ext)
    assert ("RESERVATION_OVERTIME" in _values(spec, "CdrDimensionType")) == ("bookings" in ext)
    assert ("PTP" in {r.name for r in spec.roles}) == ("payments" in ext)
    # Added items sit where the text puts them.
    if "bookings" in ext:
        cdr = spec.type("CDR")
        assert isinstance(cdr, ObjectType)
        names = [f.name for f in cdr.fields]
        assert names.index("booking_id") == names.index("end_date_time") + 1
        values = _values(spec, "CdrDimensionType")
        at = values.index("RESERVATION_TIME")
        assert values[at : at + 3] == ["RESERVATION_TIME", "RESERVATION_EXPIRES", "RESERVATION_OVERTIME"]
    # Edition 2 corrections hold whatever is included; LICENSE_PLATE is gone from both trees.
    assert "LICENSE_PLATE" not in _values(spec, "TokenType")
    # The diff against the core lists the extensions and nothing that was not added.
    d = diff_specs(load_spec(SPEC_ROOT, V), spec)
    assert {c.subject for c in d.changes if c.category == "extension"} == set(ext)
    assert all(c.op in ("added", "changed") for c in d.changes)


@pytest.mark.parametrize("ext", SETS[1:], ids=lambda s: "+".join(s))
def test_each_extension_set_generates_valid_documents_and_compiling_code(ext: tuple[str, ...]) -> None:
    files = generate(SPEC_ROOT, [V], ["openapi", "client"], extensions=list(ext))
    spec = load_spec(SPEC_ROOT, V, extensions=list(ext))
    role = "ptp" if "payments" in ext else "cpo"  # the server that gains the most from this set
    files.update({f"{V}/server/{role}/{p}": text for p, text in render_files(server_files(spec, role)).items()})
    # Validating is slow (about 0.7 s a document): the documents the extensions add or change most.
    docs = [f"{V}/openapi/interfaces/{m}-{r}.yaml" for m in ext for r in ("sender", "receiver")] + [
        f"{V}/openapi/roles/{role}.yaml"
    ]
    for path in docs:
        document = yaml.safe_load(files[path])
        validate(document)
        assert path_collisions(document) == [], path
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert ("ptp" in {r.slug for r in roles_with_servers(spec)}) == ("payments" in ext)


def test_length_corrections_hold_in_models_and_openapi() -> None:
    spec = load_spec(SPEC_ROOT, V)
    for type_name, name, length in (
        ("Location", "address", 255),
        ("Location", "state", 45),
        ("SignedValue", "plain_data", 5000),
    ):
        field = _field(spec, type_name, name)
        assert field is not None and field.type.length == length  # type: ignore[attr-defined]
    doc = yaml.safe_load(
        (Path(__file__).parent.parent / "generated" / V / "openapi" / "roles" / "cpo.yaml").read_text()
    )
    schemas = doc["components"]["schemas"]
    assert schemas["Location"]["properties"]["address"]["maxLength"] == 255
    assert schemas["Location"]["properties"]["state"]["maxLength"] == 45
    assert schemas["SignedValue"]["properties"]["plain_data"]["maxLength"] == 5000
    path = str(Path(__file__).parent.parent / "generated" / V / "client")
    if path not in sys.path:
        sys.path.insert(0, path)
    models = importlib.import_module(default_package(spec)).models
    models.SignedValue.model_validate({"nature": "Start", "plain_data": "x" * 5000, "signed_data": "y"})
    with pytest.raises(Exception):
        models.SignedValue.model_validate({"nature": "Start", "plain_data": "x" * 5001, "signed_data": "y"})
    prop = models.Location.model_fields["address"].metadata
    assert any(getattr(m, "max_length", None) == 255 for m in prop)


def test_a_bad_add_is_reported_at_its_line(tmp_path: Path) -> None:
    root = tmp_path / "spec"
    shutil.copytree(SPEC_ROOT / V, root / V)
    manifest = root / V / "extensions" / "payments" / "extension.yaml"
    manifest.write_text(
        manifest.read_text()
        .replace("type: Tariff\n", "type: Tarif\n")
        .replace("after: max_price", "after: no_such_field")
    )
    with pytest.raises(SpecError) as err:
        load_spec(root, V, extensions=["payments"])
    (problem,) = err.value.problems
    assert problem.file.endswith("extensions/payments/extension.yaml") and problem.line > 1
    assert "no object or class 'Tarif'" in problem.message


def test_plain_validate_also_checks_every_extension(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``validate`` without ``--with`` loads each version once more with all its extensions: a broken
    extension file fails it (exit 2, the file named) although a default run never loads it."""
    root = tmp_path / "spec"
    shutil.copytree(SPEC_ROOT / V, root / V)
    assert main(["--spec-root", str(root), "validate", V]) == 0
    assert f"{V}+bookings+payments: ok" in capsys.readouterr().out
    manifest = root / V / "extensions" / "payments" / "extension.yaml"
    manifest.write_text(manifest.read_text().replace("type: Tariff\n", "type: Tarif\n"))
    assert main(["--spec-root", str(root), "validate", V]) == 2
    assert "extensions/payments/extension.yaml" in capsys.readouterr().err


def test_cli_with_chooses_extensions_and_rejects_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", V, "--with", "payments,bookings"]) == 0
    assert "2.3.0+bookings+payments: ok" in capsys.readouterr().out
    assert main(["openapi", V, "--with", "nosuch", "--role", "cpo"]) == 2
    assert "no extension 'nosuch'" in capsys.readouterr().err
    assert main(["openapi", V, "--role", "ptp"]) == 2  # no PTP without Payments
    capsys.readouterr()
    assert main(["openapi", V, "--with", "payments", "--role", "ptp"]) == 0
    assert "operationId: payments_sender_list_terminals" in capsys.readouterr().out
    assert main(["diff", "2.3.0-booking-1.0", "2.3.0+payments+bookings", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"from": "2.3.0-booking-1.0"' in out and '"subject": "invoicereconciliation"' in out


def test_every_extension_end_to_end(tmp_path: Path) -> None:
    """The heavy check, once: all extensions; the client passes mypy --strict, and the scaffolds whose
    interfaces the extensions change (PTP, CPO, eMSP) pass their own tests."""
    spec = load_spec(SPEC_ROOT, V, extensions=["all"])
    files = generate(SPEC_ROOT, [V], ["client"], extensions=["all"])
    for role in ("ptp", "cpo", "emsp"):
        files.update({f"{V}/server/{role}/{p}": text for p, text in render_files(server_files(spec, role)).items()})
    write_tree(tmp_path, files)
    client = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy"), "-p", default_package(spec)],
        cwd=tmp_path / V / "client",
        capture_output=True,
        text=True,
    )
    assert client.returncode == 0, client.stdout[-3000:]
    for role in ("ptp", "cpo", "emsp"):
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path / V / "server" / role,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (role, result.stdout[-2000:])


def test_invoice_reconciliation_is_served_and_callable() -> None:
    """Edition 2's new module between the generated CPO and eMSP servers over HTTP, driven by the client."""
    from tests.test_e2e import Pair, sample

    pair = Pair(V)
    cpo_server, emsp_server = pair.servers()
    with cpo_server, emsp_server:
        cpo_side, emsp_side = pair.register("cpo", "emsp")
        emsp_peer = pair.client.EmspClient.connect(pair.versions("emsp"), cpo_side.token_b)
        models = pair.client.models
        # Direct billing: the CPO pushes a record to the eMSP's receiver ...
        record = models.InvoiceReconciliationRecord.model_validate(
            sample(pair.spec, "InvoiceReconciliationRecord", ("NL", "CPO"), "IRR1")
        )
        emsp_peer.invoicereconciliation_receiver.put("NL", "CPO", "IRR1", record)
        got = emsp_peer.invoicereconciliation_receiver.get("NL", "CPO", "IRR1")
        assert got.id == "IRR1" and got.cdrs == record.cdrs and got.invoice_id == record.invoice_id
        posted = models.InvoiceReconciliationRecord.model_validate(
            sample(pair.spec, "InvoiceReconciliationRecord", ("NL", "CPO"), "IRR2")
        )
        emsp_peer.invoicereconciliation_receiver.post(posted)
        assert sync(pair.stores["emsp"]).get_object("InvoiceReconciliationRecord", "NL", "CPO", "IRR2") is not None
        emsp_peer.invoicereconciliation_receiver.delete("NL", "CPO", "IRR1")
        assert sync(pair.stores["emsp"]).get_object("InvoiceReconciliationRecord", "NL", "CPO", "IRR1") is None
        # ... and the eMSP pulls the CPO's records from its sender, page by page.
        cpo_peer = pair.client.CpoClient.connect(pair.versions("cpo"), emsp_side.token_b)
        for n in range(5):
            data = sample(pair.spec, "InvoiceReconciliationRecord", ("NL", "CPO"), f"R{n}")
            data["last_updated"] = f"2024-02-0{n + 1}T00:00:00Z"
            sync(pair.stores["cpo"]).put_object(
                "InvoiceReconciliationRecord", "NL", "CPO", f"R{n}", data, data["last_updated"]
            )
        pages = cpo_peer.invoicereconciliation_sender.list(limit=2)
        assert [r.id for r in pages] == [f"R{n}" for n in range(5)] and pages.pages_fetched == 3
