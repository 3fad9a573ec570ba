"""The ``ocpi-codegen`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from generator import __version__
from generator.errors import OutputError, RefusedError, SpecError, UsageError
from generator.extensions import NONE, parse_with, resolve
from generator.ir import Spec
from generator.paths import SPEC_ROOT, available_editions, available_versions
from generator.pipeline import TARGETS, Progress, Timings, generate, load_spec, render_files
from generator.plan import openapi_files
from generator.writer import compare, write_tree

#: Exit statuses (README.md, "Exit status"): 2 is the caller's input (arguments, spec root, spec files),
#: 3 the output (cannot write or read it), 4 a refusal that --force overrides.
EXIT_OK, EXIT_DIFF, EXIT_INPUT, EXIT_OUTPUT, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERNAL, EXIT_INTERRUPTED = 70, 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ocpi-codegen", description="Generate OpenAPI documents, clients and servers for OCPI."
    )
    p.add_argument("--version", action="version", version=f"ocpi-codegen {__version__}")
    p.add_argument(
        "--spec-root", type=Path, default=SPEC_ROOT, help="folder of version transcriptions (default: bundled spec/)"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def versions_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("versions", nargs="*", metavar="VERSION", help="versions to process (default: all)")
        with_arg(sp)

    def with_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--with",
            dest="extensions",
            metavar="EXT[,EXT]",
            help="optional extensions to include, e.g. payments,bookings for 2.3.0; 'all' or 'none' (default: none, the core only)",
        )

    def progress_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--progress", action="store_true", help="a line per stage on stderr even when it is not a terminal"
        )
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress lines and no summary")

    g = sub.add_parser("generate", help="write every output of every version to generated/")
    versions_arg(g)
    g.add_argument("-o", "--output", type=Path, default=Path("generated"), help="output folder (default: generated)")
    g.add_argument("--timings", action="store_true", help="print seconds per pipeline stage to stderr")
    progress_args(g)

    c = sub.add_parser("check", help="exit 1 when generated/ differs from a fresh generation")
    versions_arg(c)
    c.add_argument("-o", "--output", type=Path, default=Path("generated"))
    progress_args(c)

    v = sub.add_parser("validate", help="load and validate spec transcriptions; report every problem")
    versions_arg(v)

    o = sub.add_parser("openapi", help="OpenAPI 3.1 documents of one version")
    o.add_argument("version")
    with_arg(o)
    sel = o.add_mutually_exclusive_group()
    sel.add_argument("--role", help="one document for a server in this role (cpo, emsp, hub, ...)")
    sel.add_argument("--interface", help="one document for a module interface (e.g. locations-sender)")
    o.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file (one document) or folder (all); default: stdout / generated/<version>/openapi",
    )
    o.add_argument("--format", choices=["yaml", "json"], default="yaml")

    js = sub.add_parser("schema", help="JSON Schema (draft 2020-12) files, one per object and enum of one version")
    js.add_argument("version")
    js.add_argument("-o", "--output", type=Path, help="folder (default: generated/<version>/schema)")

    cl = sub.add_parser("client", help="a typed Python client package for one version")
    cl.add_argument("version")
    with_arg(cl)
    cl.add_argument("-o", "--output", type=Path, required=True, help="folder to write the package project into")
    cl.add_argument("--package-name", help="import name (default: ocpi_client_v<version>, e.g. ocpi_client_v2_2_1)")

    sv = sub.add_parser("server", help="scaffold (or --update) a FastAPI server project for a version and role")
    sv.add_argument("version")
    with_arg(sv)
    sv.add_argument(
        "--role", required=True, help="market role: cpo, emsp, hub, nsp, scsp, ptp ... as the version defines them"
    )
    sv.add_argument("-o", "--output", type=Path, required=True, help="project folder")
    sv.add_argument("--update", action="store_true", help="rewrite only the generated package; never touch your files")
    sv.add_argument(
        "--force",
        action="store_true",
        help="overwrite your files too; with --update, switch the project to another version or role",
    )

    d = sub.add_parser("diff", help="what changed between two versions, editions or extension sets")
    d.add_argument(
        "old", help="VERSION[+EXT...]: a version or edition folder, e.g. 2.3.0-booking-1.0, 2.3.0+payments+bookings"
    )
    d.add_argument("new", help="the same form as OLD")
    d.add_argument("--format", choices=["text", "markdown", "json"], default="text")

    cf = sub.add_parser(
        "conformance",
        help="check an OCPI server (yours or a peer's) against the transcription; exit 1 when a check fails",
        description="Run checks derived from the transcription against the OCPI server at VERSIONS_URL: discovery, "
        "token encoding, 401, envelopes, request ids and routing headers (2.2+), every sender list (Link, "
        "X-Total-Count, X-Limit, limit cap, date_from/date_to, strict object validation, paging), and with --write "
        "the receiver interfaces. Exit status: 0 every check that ran passed, 1 a check failed, 2 bad arguments, "
        "3 the report file cannot be written.",
    )
    cf.add_argument("versions_url", metavar="VERSIONS_URL", help="the server's versions endpoint")
    cf.add_argument("--token", required=True, help="token C of a registered party (token A with --register)")
    cf.add_argument("--version", dest="ocpi_version", required=True, metavar="V", help="OCPI version to check")
    with_arg(cf)
    cf.add_argument("--role", required=True, help="the server's role: cpo, emsp, hub, nsp, scsp, ptp ...")
    cf.add_argument(
        "--write",
        action="store_true",
        help="also PUT/PATCH/DELETE test objects owned by --party on the receiver interfaces (a test party only!)",
    )
    cf.add_argument(
        "--register",
        metavar="HOST:PORT",
        help="first register with --token as token A, serving our versions endpoint on HOST:PORT",
    )
    cf.add_argument(
        "--register-url",
        metavar="URL",
        help="with --register: the base URL at which the peer reaches HOST:PORT (a tunnel or proxy), e.g. https://me.example.com",
    )
    cf.add_argument("--party", default="NL/TST", metavar="CC/PID", help="our country code and party id (NL/TST)")
    cf.add_argument("--max-objects", type=int, default=1000, help="walk lists up to this many objects (1000)")
    cf.add_argument("--timeout", type=float, default=20.0, help="seconds per request (20)")
    cf.add_argument("--format", choices=["text", "json", "junit"], default="text")
    cf.add_argument("-o", "--output", type=Path, help="write the report to this file (default: stdout)")
    progress_args(cf)

    mp = sub.add_parser(
        "mock-peer",
        help="serve a generated OCPI server with sample data and switchable faults on 127.0.0.1",
        description="A ready OCPI peer for testing a client or a server: the generated scaffold of VERSION and "
        "--role, seeded with sample objects built from the transcription. Faults are switched with the flags "
        "below or at run time on the admin route /_mock/faults (GET shows them, PUT a JSON object sets them).",
    )
    mp.add_argument("version")
    with_arg(mp)
    mp.add_argument("--role", required=True, help="market role of the peer: cpo, emsp, hub ...")
    mp.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (8765; 0: any free port)")
    mp.add_argument("--token", default=None, help="token C the peer accepts (default: mock-peer-token-c)")
    mp.add_argument("--objects", type=int, default=12, help="sample objects per list (12)")
    mp.add_argument("--page-size", type=int, default=5, help="the peer's largest page (5)")
    mp.add_argument(
        "--faults",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="switch a fault on (repeatable): delay=SECONDS, status_5xx=CODE, rate_limit=RETRY_AFTER, "
        "wrong_token_encoding, broken_links, drop_connection, every=N, or a misbehaviour name (see --list-faults)",
    )
    mp.add_argument("--list-faults", action="store_true", help="print the fault and misbehaviour names and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure is one line on stderr (a line per problem for spec files) and an
    exit status from the table in README.md, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SpecError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was written.", file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        return _error(str(exc), EXIT_INPUT)
    except OutputError as exc:
        return _error(f"{exc}; nothing was changed", EXIT_OUTPUT)
    except RefusedError as exc:
        return _error(str(exc), EXIT_REFUSED)
    except KeyboardInterrupt:
        return _error("interrupted; nothing was changed", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _error(f"{where}{exc.strerror or exc}", EXIT_OUTPUT)
    except Exception as exc:  # noqa: BLE001 - a bug in ocpi-codegen: still one line, unless asked
        if os.environ.get("OCPI_CODEGEN_DEBUG"):
            raise
        return _error(
            f"internal error ({type(exc).__name__}: {exc}); set OCPI_CODEGEN_DEBUG=1 for a traceback and please report it",
            EXIT_INTERNAL,
        )


def _error(message: str, code: int) -> int:
    print(f"ocpi-codegen: error: {message}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    """The reader of stdout went away (``| head``): drop what is still buffered, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _spec_root(args: argparse.Namespace) -> list[str]:
    """The versions under ``--spec-root``; a missing or empty spec root is a usage error."""
    root: Path = args.spec_root
    if not root.exists():
        raise UsageError(f"spec root {root} does not exist")
    if not root.is_dir():
        raise UsageError(f"spec root {root} is not a folder")
    known = available_versions(root)
    if not known:
        raise UsageError(f"spec root {root} has no version folders (expected {root}/<version>/index.yaml)")
    return known


def _versions(args: argparse.Namespace, chosen: list[str] | None = None) -> list[str]:
    """The versions a command names (all when it names none); the same message for every verb.

    A named folder may also be an earlier edition kept beside its version (``2.3.0-booking-1.0``).
    """
    versions = _spec_root(args)
    chosen = (args.versions or versions) if chosen is None else chosen
    known = available_editions(args.spec_root)
    unknown = [v for v in chosen if v not in known]
    if unknown:
        names = ", ".join(repr(v) for v in unknown)
        raise UsageError(f"unknown OCPI version {names} in {args.spec_root}; known: {', '.join(known)}")
    return chosen


def _version(args: argparse.Namespace, version: str) -> str:
    return _versions(args, [version])[0]


def _extensions(args: argparse.Namespace, versions: list[str]) -> list[str] | None:
    """``--with`` as extension ids, checked against every version the command runs on."""
    chosen = parse_with(getattr(args, "extensions", None))
    if chosen is not None:
        for version in versions:
            try:
                resolve(args.spec_root / version, chosen)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    return chosen


def _load(args: argparse.Namespace, version: str, extensions: list[str] | None = None) -> Spec:
    """Load a version with ``--with`` (or the given extension ids); an unknown extension is a usage error."""
    version = _version(args, version)
    if extensions is None:
        extensions = _extensions(args, [version])
    return load_spec(args.spec_root, version, extensions=extensions)


def _selector(args: argparse.Namespace, text: str) -> Spec:
    """``2.3.0+payments+bookings`` -> that version with those extensions; a bare version means the core only."""
    version, *extensions = text.split("+")
    _version(args, version)
    try:
        resolve(args.spec_root / version, extensions or [NONE])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return _load(args, version, extensions or [NONE])


def _progress(args: argparse.Namespace) -> Progress:
    quiet = getattr(args, "quiet", False)
    return Progress(enabled=not quiet and (getattr(args, "progress", False) or sys.stderr.isatty()))


def _generate(args: argparse.Namespace) -> int:
    versions = _versions(args)
    started = time.perf_counter()
    timings = Timings(on_stage=_progress(args).stage)
    files = generate(args.spec_root, versions, list(TARGETS), timings, _extensions(args, versions))
    with timings.stage("write", str(args.output)):
        written = write_tree(args.output, files, prune={f"{v}/" for v in versions})
    elapsed = time.perf_counter() - started
    if not getattr(args, "quiet", False):
        print(
            f"{len(files)} files generated for {len(versions)} version(s), {len(written)} written to {args.output} in {elapsed:.1f}s"
        )
    if args.timings:
        for stage, seconds in timings.stages.items():
            print(f"{stage:>8}: {seconds:.3f}s", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    versions = _versions(args)
    if args.output.exists() and not args.output.is_dir():
        raise OutputError(f"output path {args.output} is a file, not a folder")
    files = generate(
        args.spec_root, versions, list(TARGETS), Timings(on_stage=_progress(args).stage), _extensions(args, versions)
    )
    diffs = compare(args.output, files, owned={f"{v}/" for v in versions})
    for d in diffs:
        print(f"{d.kind}: {args.output / d.path}")
    if diffs:
        print(f"{args.output} is out of date ({len(diffs)} file(s)); run: ocpi-codegen generate", file=sys.stderr)
        return EXIT_DIFF
    print(f"{args.output} is up to date ({len(files)} files)")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    """Every version as generated by default and, without ``--with``, once more with all its
    extensions, so that a broken extension file is found without an extension run."""
    from generator.extensions import ALL, available_extensions
    from generator.ir_build import build_spec
    from generator.loader import load_version
    from generator.server_check import behaviour_warnings

    warned: set[str] = set()
    for version in _versions(args):
        folder = args.spec_root / version
        chosen = _extensions(args, [version])
        runs = [resolve(folder, chosen)]
        every = resolve(folder, [ALL]) if chosen is None and available_extensions(folder) else ()
        if every and every != runs[0]:
            runs.append(every)
        for extensions in runs:
            loaded = load_version(args.spec_root, _version(args, version), extensions)
            spec = build_spec(loaded)
            for problem in behaviour_warnings(loaded, spec):
                if str(problem) not in warned:
                    warned.add(str(problem))
                    print(f"warning: {problem}")
            n_fields = sum(len(getattr(t, "fields", ())) for t in spec.types)
            n_eps = sum(len(i.endpoints) for i in spec.interfaces)
            print(
                f"{spec.label}: ok ({len(spec.types)} types, {n_fields} fields, {len(spec.modules)} modules,"
                f" {n_eps} endpoints)"
            )
    return EXIT_OK


def _openapi(args: argparse.Namespace) -> int:
    spec = _load(args, args.version)
    files = render_files(openapi_files(spec, args.format))
    if args.role or args.interface:
        stem = f"roles/{args.role.lower()}" if args.role else f"interfaces/{args.interface.lower()}"
        key = f"{stem}.{args.format}"
        if key not in files:
            choices = sorted(k.split("/")[1].rsplit(".", 1)[0] for k in files if k.startswith(stem.split("/")[0]))
            raise UsageError(
                f"OCPI {args.version} has no {stem.split('/')[0][:-1]} {stem.split('/')[1]!r}; choose from: {', '.join(choices)}"
            )
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


def _schema(args: argparse.Namespace) -> int:
    from generator.jsonschema_out import schema_files

    spec = load_spec(args.spec_root, args.version)
    files = render_files(schema_files(spec))
    out = args.output or Path("generated") / args.version / "schema"
    written = write_tree(out, files)
    print(f"{len(files)} JSON Schema files in {out} ({len(written)} written)")
    return EXIT_OK


def _client(args: argparse.Namespace) -> int:
    from generator.client import client_files

    if args.package_name is not None and not args.package_name.isidentifier():
        raise UsageError(f"--package-name must be a Python identifier, not {args.package_name!r}")
    spec = _load(args, args.version)
    files = render_files(client_files(spec, args.package_name))
    written = write_tree(args.output, files)
    print(f"client for OCPI {args.version}: {len(files)} files in {args.output} ({len(written)} written)")
    return EXIT_OK


#: Written into every scaffolded project: which version and role it was made for (read back by --update).
SCAFFOLD_MARKER = ".ocpi-codegen.json"


def _read_marker(out: Path) -> dict[str, str] | None:
    path = out / SCAFFOLD_MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not readable scaffold information ({exc}); delete it or use --force") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("version", "role")):
        raise UsageError(f"{path} is not readable scaffold information; delete it or use --force")
    return data


def _marker(version: str, role: str, package: str) -> str:
    data = {
        "generator": "ocpi-codegen",
        "generator_version": __version__,
        "version": version,
        "role": role,
        "package": package,
    }
    return json.dumps(data, indent=2) + "\n"


def _server(args: argparse.Namespace) -> int:
    from generator import naming
    from generator.server import is_user_file, roles_with_servers, server_files

    version = _version(args, args.version)
    out: Path = args.output
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} is a file, not a folder")
    spec = _load(args, version)
    roles = [r.slug for r in roles_with_servers(spec)]
    role = args.role.lower()
    if role not in roles:
        raise UsageError(f"OCPI {version} has no server role {args.role!r}; choose from: {', '.join(roles)}")
    files = render_files(server_files(spec, role))
    package = naming.server_package(role, spec.version)
    user = {p: t for p, t in files.items() if is_user_file(p, package)}
    generated = {p: t for p, t in files.items() if not is_user_file(p, package)}
    generated[SCAFFOLD_MARKER] = _marker(version, role, package)
    existing_user = sorted(p for p in user if (out / p).exists())
    marker = _read_marker(out)
    if args.update:
        if marker is not None and (marker["version"], marker["role"]) != (version, role) and not args.force:
            raise RefusedError(
                f"{out} was scaffolded for OCPI {marker['version']} {marker['role'].upper()}, not {version} {role.upper()}; "
                "add --force to switch it (your files are still not touched)"
            )
        written = write_tree(out, generated, prune={f"{package}/"})
        if existing_user:
            print(
                f"updated {out}/{package}: {len(written)} file(s) written; your {len(existing_user)} file(s) untouched"
            )
        else:
            print(
                f"wrote only the generated package {out}/{package} ({len(written)} file(s) written); {out} has none of the "
                f"project's own files ({', '.join(sorted(user)[:3])}, ...): run without --update to scaffold them"
            )
        old = (marker or {}).get("package") or (
            "ocpi_server" if (out / "ocpi_server" / "__init__.py").is_file() else None
        )
        if old and old != package and (out / old).is_dir():
            print(
                f"note: the generated package is now {package} (was {old}); change your imports of {old} and "
                f"delete {out / old} when nothing uses it"
            )
        return EXIT_OK
    if existing_user and not args.force:
        raise RefusedError(
            f"{out} already has your files ({', '.join(existing_user[:3])}{', ...' if len(existing_user) > 3 else ''}); "
            "use --update to refresh the generated package, or --force to overwrite everything"
        )
    written = write_tree(out, {**files, SCAFFOLD_MARKER: generated[SCAFFOLD_MARKER]}, prune={f"{package}/"})
    print(f"scaffolded an OCPI {version} {role.upper()} server in {out} ({len(written)} files written)")
    print(f"next: cd {out} && python -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/uvicorn app:app")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from generator.diff import diff_specs, format_diff

    old = _selector(args, args.old)
    new = _selector(args, args.new)
    d = diff_specs(old, new)
    sys.stdout.write(format_diff(dataclasses.replace(d, old=args.old, new=args.new), args.format))
    return EXIT_OK


def _party(text: str) -> tuple[str, str]:
    cc, _, pid = text.partition("/")
    if not (len(cc) == 2 and 1 <= len(pid) <= 3 and (cc + pid).isascii()):
        raise UsageError(f"--party must be COUNTRY/PARTY such as NL/TST, not {text!r}")
    return cc.upper(), pid.upper()


def _peer_modules() -> None:
    """The conformance runner and the mock peer need the ``peer`` extra (httpx, fastapi, uvicorn, pydantic)."""
    import importlib.util

    missing = [m for m in ("httpx", "fastapi", "uvicorn", "pydantic") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"this command needs {', '.join(missing)}: pip install 'ocpi-codegen[peer]'")


def _conformance(args: argparse.Namespace) -> int:
    _peer_modules()
    from generator.conformance import Options, run
    from generator.conformance.report import result_line

    spec = _load(args, args.ocpi_version)
    if args.role.lower() not in {r.slug for r in spec.roles}:
        raise UsageError(
            f"OCPI {spec.version} has no role {args.role!r}; choose from: {', '.join(r.slug for r in spec.roles)}"
        )
    if not args.versions_url.startswith(("http://", "https://")):
        raise UsageError(f"VERSIONS_URL must be an http(s) URL, not {args.versions_url!r}")
    if args.register is not None and not args.register.rpartition(":")[2].isdigit():
        raise UsageError(f"--register needs HOST:PORT, not {args.register!r}")
    options = Options(
        write=args.write,
        register=args.register,
        register_url=args.register_url,
        party=_party(args.party),
        max_objects=args.max_objects,
        timeout=args.timeout,
    )
    progress = _progress(args).enabled
    if args.write:
        print(
            f"WARNING: --write stores, changes and deletes test objects of party {'/'.join(options.party)} on "
            f"{args.versions_url}: use it against a test system only",
            file=sys.stderr,
        )

    def on_result(result: object) -> None:
        if progress:
            print(f"{getattr(result, 'area')}:{result_line(result)}", file=sys.stderr, flush=True)  # type: ignore[arg-type]

    report = run(spec, args.role.lower(), args.versions_url, args.token, options, on_result)
    text = {"text": report.to_text, "json": report.to_json, "junit": report.to_junit}[args.format]()
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"{report.totals()}; report in {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK if report.passed else EXIT_DIFF


def _mock_peer(args: argparse.Namespace) -> int:
    _peer_modules()
    from generator.mockpeer import DEFAULT_TOKEN, MISBEHAVIOURS, Faults, build_mock_peer

    if args.list_faults:
        print(
            "delay=SECONDS, status_5xx=CODE, rate_limit=RETRY_AFTER, every=N, wrong_token_encoding, "
            "broken_links, drop_connection"
        )
        for name, what in MISBEHAVIOURS.items():
            print(f"{name}: {what}")
        return EXIT_OK
    spec = _load(args, args.version)
    faults = Faults()
    for item in args.faults:
        for part in item.split(","):
            name, eq, value = part.strip().partition("=")
            try:
                if name in MISBEHAVIOURS:
                    faults.set(misbehave=faults.misbehave | {name})
                else:
                    faults.set(**{name: value if eq else True})
            except ValueError as exc:
                raise UsageError(f"--faults {part}: {exc}") from None
    if args.objects < 0 or args.page_size < 1:
        raise UsageError("--objects must be 0 or more and --page-size 1 or more")
    try:
        peer = build_mock_peer(
            spec,
            args.role.lower(),
            port=args.port or None,
            token=args.token or DEFAULT_TOKEN,
            count=args.objects,
            faults=faults,
            settings={"max_limit": args.page_size, "default_limit": args.page_size},
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    def started() -> None:
        print(peer.banner(), flush=True)
        if faults.as_json() != Faults().as_json():
            print(f"faults on:    {faults.as_json()}", flush=True)

    try:
        peer.run_forever(started)
    except KeyboardInterrupt:
        print("mock peer stopped", file=sys.stderr)
    except OSError as exc:
        raise UsageError(f"{exc} (is port {peer.port} in use? --port 0 picks a free one)") from None
    return EXIT_OK


_COMMANDS = {
    "generate": _generate,
    "check": _check,
    "validate": _validate,
    "openapi": _openapi,
    "schema": _schema,
    "client": _client,
    "server": _server,
    "diff": _diff,
    "conformance": _conformance,
    "mock-peer": _mock_peer,
}
