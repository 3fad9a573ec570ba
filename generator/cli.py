"""The ``ocpi-codegen`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import __version__
from generator.errors import SpecError
from generator.paths import SPEC_ROOT, available_versions
from generator.pipeline import TARGETS, Timings, generate, load_spec, render_files
from generator.plan import openapi_files
from generator.writer import compare, write_tree

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ocpi-codegen", description="Generate OpenAPI documents, clients and servers for OCPI.")
    p.add_argument("--version", action="version", version=f"ocpi-codegen {__version__}")
    p.add_argument("--spec-root", type=Path, default=SPEC_ROOT, help="folder of version transcriptions (default: bundled spec/)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def versions_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("versions", nargs="*", metavar="VERSION", help="versions to process (default: all)")

    g = sub.add_parser("generate", help="write every output of every version to generated/")
    versions_arg(g)
    g.add_argument("-o", "--output", type=Path, default=Path("generated"), help="output folder (default: generated)")
    g.add_argument("--timings", action="store_true", help="print seconds per pipeline stage to stderr")

    c = sub.add_parser("check", help="exit 1 when generated/ differs from a fresh generation")
    versions_arg(c)
    c.add_argument("-o", "--output", type=Path, default=Path("generated"))

    v = sub.add_parser("validate", help="load and validate spec transcriptions; report every problem")
    versions_arg(v)

    o = sub.add_parser("openapi", help="OpenAPI 3.1 documents of one version")
    o.add_argument("version")
    sel = o.add_mutually_exclusive_group()
    sel.add_argument("--role", help="one document for a server in this role (cpo, emsp, hub, ...)")
    sel.add_argument("--interface", help="one document for a module interface (e.g. locations-sender)")
    o.add_argument("-o", "--output", type=Path, help="file (one document) or folder (all); default: stdout / generated/<version>/openapi")
    o.add_argument("--format", choices=["yaml", "json"], default="yaml")

    cl = sub.add_parser("client", help="a typed Python client package for one version")
    cl.add_argument("version")
    cl.add_argument("-o", "--output", type=Path, required=True, help="folder to write the package project into")
    cl.add_argument("--package-name", help="import name (default: ocpi_client_v<version>, e.g. ocpi_client_v2_2_1)")

    sv = sub.add_parser("server", help="scaffold (or --update) a FastAPI server project for a version and role")
    sv.add_argument("version")
    sv.add_argument("--role", required=True, help="market role: cpo, emsp, hub, nsp, scsp, ptp ... as the version defines them")
    sv.add_argument("-o", "--output", type=Path, required=True, help="project folder")
    mode = sv.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help="rewrite only the generated package; never touch your files")
    mode.add_argument("--force", action="store_true", help="overwrite your files too")

    d = sub.add_parser("diff", help="what changed between two versions")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SpecError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written.", file=sys.stderr)
        return EXIT_ERROR


def _versions(args: argparse.Namespace) -> list[str]:
    known = available_versions(args.spec_root)
    chosen = args.versions or known
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise SystemExit(f"ocpi-codegen: unknown version(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return chosen


def _generate(args: argparse.Namespace) -> int:
    versions = _versions(args)
    timings = Timings()
    files = generate(args.spec_root, versions, list(TARGETS), timings)
    with timings.stage("write"):
        written = write_tree(args.output, files, prune={f"{v}/" for v in versions})
    print(f"{len(files)} files generated, {len(written)} written to {args.output}")
    if args.timings:
        for stage, seconds in timings.stages.items():
            print(f"{stage:>8}: {seconds:.3f}s", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    versions = _versions(args)
    files = generate(args.spec_root, versions, list(TARGETS))
    diffs = compare(args.output, files, owned={f"{v}/" for v in versions})
    for d in diffs:
        print(f"{d.kind}: {args.output / d.path}")
    if diffs:
        print(f"{args.output} is out of date ({len(diffs)} file(s)); run: ocpi-codegen generate", file=sys.stderr)
        return EXIT_DIFF
    print(f"{args.output} is up to date ({len(files)} files)")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from generator.ir_build import build_spec
    from generator.loader import load_version
    from generator.server_check import behaviour_warnings

    for version in _versions(args):
        loaded = load_version(args.spec_root, version)
        spec = build_spec(loaded)
        for problem in behaviour_warnings(loaded, spec):
            print(f"warning: {problem}")
        n_fields = sum(len(getattr(t, "fields", ())) for t in spec.types)
        n_eps = sum(len(i.endpoints) for i in spec.interfaces)
        print(f"{version}: ok ({len(spec.types)} types, {n_fields} fields, {len(spec.modules)} modules, {n_eps} endpoints)")
    return EXIT_OK


def _openapi(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec_root, args.version)
    files = render_files(openapi_files(spec, args.format))
    if args.role or args.interface:
        stem = f"roles/{args.role.lower()}" if args.role else f"interfaces/{args.interface.lower()}"
        key = f"{stem}.{args.format}"
        if key not in files:
            choices = sorted(k.split("/")[1].rsplit(".", 1)[0] for k in files if k.startswith(stem.split("/")[0]))
            print(f"ocpi-codegen: no {stem.split('/')[0][:-1]} {stem.split('/')[1]!r} in {args.version}; choose from: {', '.join(choices)}", file=sys.stderr)
            return EXIT_ERROR
        if args.output is None:
            sys.stdout.write(files[key])
        else:
            write_tree(args.output.parent, {args.output.name: files[key]})
            print(f"wrote {args.output}")
        return EXIT_OK
    out = args.output or Path("generated") / args.version / "openapi"
    written = write_tree(out, files)
    print(f"{len(files)} documents in {out} ({len(written)} written)")
    return EXIT_OK


def _client(args: argparse.Namespace) -> int:
    from generator.client import client_files

    if args.package_name is not None and not args.package_name.isidentifier():
        print(f"ocpi-codegen: --package-name must be a Python identifier, not {args.package_name!r}", file=sys.stderr)
        return EXIT_ERROR
    spec = load_spec(args.spec_root, args.version)
    files = render_files(client_files(spec, args.package_name))
    written = write_tree(args.output, files)
    print(f"client for OCPI {args.version}: {len(files)} files in {args.output} ({len(written)} written)")
    return EXIT_OK


def _server(args: argparse.Namespace) -> int:
    from generator.server import PACKAGE, is_user_file, roles_with_servers, server_files

    spec = load_spec(args.spec_root, args.version)
    roles = [r.slug for r in roles_with_servers(spec)]
    if args.role.lower() not in roles:
        print(f"ocpi-codegen: OCPI {args.version} has no server role {args.role!r}; choose from: {', '.join(roles)}", file=sys.stderr)
        return EXIT_ERROR
    files = render_files(server_files(spec, args.role))
    out: Path = args.output
    user = {p: t for p, t in files.items() if is_user_file(p)}
    generated = {p: t for p, t in files.items() if not is_user_file(p)}
    existing_user = [p for p in user if (out / p).exists()]
    if args.update:
        written = write_tree(out, generated, prune={f"{PACKAGE}/"})
        kept = len(user)
        print(f"updated {out}/{PACKAGE}: {len(written)} file(s) written; your {kept} file(s) untouched")
        return EXIT_OK
    if existing_user and not args.force:
        print(
            f"ocpi-codegen: {out} already has your files ({', '.join(sorted(existing_user)[:3])}...); "
            "use --update to refresh the generated package, or --force to overwrite everything",
            file=sys.stderr,
        )
        return EXIT_ERROR
    written = write_tree(out, files, prune={f"{PACKAGE}/"})
    print(f"scaffolded an OCPI {args.version} {args.role.upper()} server in {out} ({len(written)} files)")
    print(f"next: cd {out} && python -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/uvicorn app:app")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from generator.diff import diff_specs, format_diff

    old = load_spec(args.spec_root, args.old)
    new = load_spec(args.spec_root, args.new)
    sys.stdout.write(format_diff(diff_specs(old, new), args.format))
    return EXIT_OK


_COMMANDS = {
    "generate": _generate,
    "check": _check,
    "validate": _validate,
    "openapi": _openapi,
    "client": _client,
    "server": _server,
    "diff": _diff,
}
