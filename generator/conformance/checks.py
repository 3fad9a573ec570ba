"""The conformance checks, one function per area, each derived from the transcription (the IR):
which interfaces the role has, which of their endpoints list, read or write which object, the module's
status for an unknown object, the headers of the version, the section anchor of each rule.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from generator.conformance.probe import Answer, as_int, instant, is_absolute, next_link, same_origin
from generator.conformance.runner import Check, Context, Fail, Skip, endpoint_url, now_stamp
from generator.conformance.validate import validate_object
from generator.ir import Endpoint, ObjectType
from generator.mockpeer.samples import id_field, sample

#: The answer to expect from a peer when something went fine.
SUCCESS = 1000


def envelope_problem(ctx: Context, answer: Answer) -> str | None:
    """What is wrong with the answer's OCPI envelope (transport_and_format response format), or None."""
    env = answer.envelope
    if env is None:
        return f"the answer (HTTP {answer.status}) is not an OCPI envelope (JSON object with status_code)"
    code = env.get("status_code")
    if not isinstance(code, int) or isinstance(code, bool):
        return f"status_code is {code!r}, not an int"
    if code not in {s.code for s in ctx.spec.transport.status_codes} and not 1000 <= code <= 4999:
        return f"status_code {code} is not an OCPI status code"
    if instant(env.get("timestamp")) is None:
        return f"timestamp {env.get('timestamp')!r} is not a DateTime"
    message = env.get("status_message")
    if message is not None and not isinstance(message, str):
        return "status_message is not a string"
    return None


def require_success(c: Check, answer: Answer, what: str) -> Any:
    """The envelope's data of a successful answer; Fail otherwise."""
    if answer.status is None:
        raise Fail(f"{what}: no answer ({answer.exchange.error})")
    problem = envelope_problem(c.ctx, answer)
    if answer.status != 200 and answer.status != 201:
        raise Fail(f"{what}: HTTP {answer.status}, expected 200")
    if problem:
        raise Fail(f"{what}: {problem}")
    if answer.status_code != SUCCESS:
        raise Fail(f"{what}: status_code {answer.status_code}, expected {SUCCESS}")
    return answer.data


# -- discovery ----------------------------------------------------------------------------------------


def discovery(ctx: Context) -> bool:
    """Versions list and version details; fills ``ctx.endpoints``. False when nothing else can run."""
    spec = ctx.spec
    anchor = ctx.module_anchor("versions")
    ok = False
    with ctx.check("discovery", "versions list names this version with an absolute URL", anchor) as c:
        answer = c.get(ctx.versions_url)
        if answer.status != 200 or answer.status_code != SUCCESS:
            other = ctx.probe.authorization(base64_form=not spec.token_base64)
            retry = c.get(ctx.versions_url, auth=other)
            if retry.status == 200:
                ctx.probe.token_base64 = not spec.token_base64
                ctx.report.notes.append(
                    f"the peer refused the token in the encoding of OCPI {spec.version} and accepted the other one; "
                    "the checks go on with that one"
                )
                answer = retry
        data = require_success(c, answer, "versions list")
        c.expect(isinstance(data, list), f"data is {type(data).__name__}, expected a list of versions")
        found = [v for v in data if isinstance(v, dict) and v.get("version") == spec.version]
        c.expect(
            found,
            f"version {spec.version} is not in the list ({[v.get('version') for v in data if isinstance(v, dict)]})",
        )
        url = found[0].get("url")
        c.expect(isinstance(url, str) and is_absolute(url), f"the URL of {spec.version} is not absolute: {url!r}")
        ctx.details_url = url
        ok = True
    if not ok or ctx.details_url is None:
        ctx.skip("discovery", "version details", anchor, "no version details URL")
        return False
    ok = False
    with ctx.check("discovery", "version details list valid endpoints, credentials included", anchor) as c:
        data = require_success(c, c.get(ctx.details_url), "version details")
        problems = validate_object(spec, "VersionDetails", data).problems if _has(ctx, "VersionDetails") else []
        c.expect(not problems, "; ".join(problems[:5]))
        c.expect(isinstance(data, dict) and data.get("version") == spec.version, "details name another version")
        for e in data.get("endpoints") or []:
            if isinstance(e, dict) and isinstance(e.get("identifier"), str) and isinstance(e.get("url"), str):
                ctx.endpoints[(e["identifier"], e.get("role"))] = e["url"]
        relative = [u for u in ctx.endpoints.values() if not is_absolute(u)]
        c.expect(not relative, f"relative endpoint URLs: {', '.join(relative[:3])}")
        c.expect(any(k[0] == "credentials" for k in ctx.endpoints), "no credentials endpoint")
        known = {m.id for m in spec.modules}
        unknown = sorted({k[0] for k in ctx.endpoints if k[0] not in known})
        if unknown:
            c.note(f"identifiers not in OCPI {spec.version}: {', '.join(unknown)}")
        ok = True
    if not ok:
        return False
    missing = [f"{i.module_id} {i.role}" for i in ctx.interfaces() if ctx.url_of(i) is None]
    if missing:
        ctx.report.notes.append(
            f"interfaces of a {ctx.role.name} not offered (modules are optional; their checks are skipped): "
            + ", ".join(missing)
        )
    return True


def _has(ctx: Context, type_name: str) -> bool:
    try:
        ctx.spec.type(type_name)
    except KeyError:
        return False
    return True


# -- credentials registration ------------------------------------------------------------------------


def register(ctx: Context) -> None:
    """Register with the token given as token A; our versions endpoint is served on ``--register``."""
    from generator.conformance.ownpeer import OwnPeer

    anchor = ctx.module_anchor("credentials")
    url = next((u for (ident, _), u in ctx.endpoints.items() if ident == "credentials"), None)
    if url is None or ctx.options.register is None:
        ctx.skip("credentials", "registration with token A", anchor, "no credentials endpoint")
        return
    own = OwnPeer(ctx.spec, ctx.role, ctx.options.register, ctx.options.party, ctx.options.register_url)
    token_a = ctx.probe.token
    with ctx.check("credentials", "registration with token A: POST gives a new token C", anchor) as c:
        with own.serving():
            answer = c.request("POST", url, body=own.credentials(ctx.spec))
        data = require_success(c, answer, "credentials POST")
        problems = validate_object(ctx.spec, "Credentials", data).problems
        c.expect(not problems, "; ".join(problems[:5]))
        token_c = data.get("token")
        c.expect(isinstance(token_c, str) and token_c, "no token in the answer")
        c.expect(token_c != token_a, "token C is token A again")
        c.expect(own.calls, "the peer never called our versions endpoint")
        c.expect(all(t == own.token_b for t in own.tokens), "the peer called our versions endpoint without token B")
        ctx.probe.token = token_c
        ctx.peer_party = _party_of(data)
    if ctx.probe.token == token_a:
        return
    with ctx.check("credentials", "token A is refused after registration", anchor) as c:
        refused = c.get(url, auth=ctx.probe.authorization(token_a))
        c.expect(refused.status == 401, f"HTTP {refused.status} for the old token A, expected 401")
    with ctx.check("credentials", "GET credentials with token C", anchor) as c:
        require_success(c, c.get(url), "credentials GET")


def _party_of(data: Any) -> tuple[str, str] | None:
    if not isinstance(data, dict):
        return None
    roles = data.get("roles")
    source = roles[0] if isinstance(roles, list) and roles and isinstance(roles[0], dict) else data
    cc, pid = source.get("country_code"), source.get("party_id")
    return (cc, pid) if isinstance(cc, str) and isinstance(pid, str) else None


# -- transport ----------------------------------------------------------------------------------------


def transport(ctx: Context) -> None:
    spec = ctx.spec
    target = ctx.probe_target()
    auth_anchor = ctx.anchor("Authorization")
    env_anchor = spec.transport.envelope_anchor
    if target is None:
        for name in ("token encoding", "401 without a token", "envelope on errors"):
            ctx.skip("transport", name, auth_anchor, "the peer offers none of the role's modules")
        return
    url, ok = target
    form = "Base64" if spec.token_base64 else "plain (not Base64)"
    with ctx.check("transport", f"token accepted in the {form} encoding of OCPI {spec.version}", auth_anchor) as c:
        answer = c.get(url, auth=ctx.probe.authorization(base64_form=spec.token_base64))
        c.expect(answer.status not in (401, 403), f"HTTP {answer.status} for the token in the {form} form")
        c.expect(answer.status in ok, f"HTTP {answer.status} for a module URL with a valid token, expected {ok[0]}")
        if ok == (200,):
            c.expect(
                answer.status_code == SUCCESS, f"status_code {answer.status_code} for the token in the {form} form"
            )
    unauthorized: list[Answer] = []
    with ctx.check("transport", "401 without a token", auth_anchor) as c:
        answer = c.get(url, auth=None)
        unauthorized.append(answer)
        c.expect(answer.status == 401, f"HTTP {answer.status} without Authorization, expected 401")
    with ctx.check("transport", "401 with an unknown token", auth_anchor) as c:
        answer = c.get(url, auth=ctx.probe.authorization("conformance-unknown-" + secrets.token_hex(8)))
        unauthorized.append(answer)
        c.expect(answer.status == 401, f"HTTP {answer.status} for an unknown token, expected 401")
    with ctx.check("transport", "envelope on success answers (status_code, timestamp)", env_anchor) as c:
        success_url = url if ok == (200,) else ctx.credentials_url()
        if success_url is None:
            raise Skip("no URL that answers with success")
        require_success(c, c.get(success_url), "answer")
    with ctx.check("transport", "envelope on error answers", env_anchor) as c:
        answer = unauthorized[0] if unauthorized else c.get(url, auth=None)
        c.earlier.append(answer.exchange)
        problem = envelope_problem(ctx, answer)
        c.expect(problem is None, f"error answer: {problem}")
        c.expect(answer.status_code != SUCCESS, "an error answer says status_code 1000")
    if not spec.routing_headers:
        return
    ids_anchor = ctx.anchor("X-Request-ID")
    with ctx.check("transport", "X-Request-ID and X-Correlation-ID echoed, errors included", ids_anchor) as c:
        for auth in ("ours", None):
            rid, cid = "conf-" + secrets.token_hex(6), "conf-" + secrets.token_hex(6)
            kwargs: dict[str, Any] = {"headers": {"X-Request-ID": rid, "X-Correlation-ID": cid}}
            if auth is None:
                kwargs["auth"] = None
            answer = c.get(url, **kwargs)
            got = (answer.header("x-request-id"), answer.header("x-correlation-id"))
            c.expect(got == (rid, cid), f"HTTP {answer.status} answer echoed {got}, sent {(rid, cid)}")
    routed = [i for i in ctx.interfaces() if ctx.url_of(i) and any(e.routed for e in i.endpoints)]
    route_anchor = ctx.anchor("OCPI-to-party-id")
    if not routed:
        ctx.skip("transport", "routing headers swapped in answers", route_anchor, "no function module offered")
        return
    with ctx.check("transport", "routing headers swapped in answers", route_anchor) as c:
        bases = [ctx.url_of(i) or "" for i in routed]
        target_url = url if any(b and url.startswith(b) for b in bases) else bases[0]
        ours = ctx.options.party
        theirs = ctx.peer_party or _peer_party(c, ctx)
        if theirs is None:
            raise Skip("the peer's own party is unknown (its credentials name none)")
        sent = {
            "OCPI-from-country-code": ours[0],
            "OCPI-from-party-id": ours[1],
            "OCPI-to-country-code": theirs[0],
            "OCPI-to-party-id": theirs[1],
        }
        answer = c.get(target_url, headers=sent)
        expected = {
            "ocpi-to-country-code": ours[0],
            "ocpi-to-party-id": ours[1],
            "ocpi-from-country-code": theirs[0],
            "ocpi-from-party-id": theirs[1],
        }
        wrong = {k: answer.header(k) for k, v in expected.items() if (answer.header(k) or "").upper() != v.upper()}
        c.expect(not wrong, f"answer routing headers {wrong}, expected {expected}")


def _peer_party(c: Check, ctx: Context) -> tuple[str, str] | None:
    url = ctx.credentials_url()
    if url is None:
        return None
    answer = c.get(url)
    ctx.peer_party = _party_of(answer.data) if answer.status == 200 else None
    return ctx.peer_party


# -- sender lists --------------------------------------------------------------------------------------


def lists(ctx: Context) -> None:
    """Every paginated GET of the role's interfaces; areas are named by module (and path or role when
    a module has more than one list)."""
    senders = [
        (i, [e for e in i.endpoints if e.method == "GET" and e.paginated and e.response is not None])
        for i in ctx.interfaces()
    ]
    senders = [(i, eps) for i, eps in senders if eps]
    modules = [i.module_id for i, _ in senders]
    for interface, endpoints in senders:
        base = ctx.url_of(interface)
        name = interface.module_id + (f" {interface.role}" if modules.count(interface.module_id) > 1 else "")
        for endpoint in endpoints:
            area = f"list {name}" + (f" {endpoint.path}" if len(endpoints) > 1 else "")
            if base is None:
                ctx.skip(area, "all list checks", endpoint.anchor, "module not offered")
                continue
            _list_checks(ctx, area, endpoint, endpoint_url(base, endpoint, {}))
        single = next(
            (
                e
                for e in interface.endpoints
                if e.method == "GET"
                and e.server is not None
                and e.server.kind == "get"
                and len(e.path_params) == (3 if e.server.owner == "url" else 1)
            ),
            None,
        )
        if base is not None and single is not None:
            _unknown_object(ctx, f"list {name}", single, base)


def _list_checks(ctx: Context, area: str, endpoint: Endpoint, url: str) -> None:
    assert endpoint.response is not None
    type_name = endpoint.response.type.name
    page_anchor = ctx.anchor("Link")
    first: Answer | None = None
    with ctx.check(area, "list answer: HTTP 200, envelope, data a list", endpoint.anchor) as c:
        first = c.get(url)
        data = require_success(c, first, "list")
        c.expect(isinstance(data, list), f"data is {type(data).__name__}, expected a list")
    if first is None or not isinstance(first.data, list):
        return
    total = as_int(first.header("x-total-count"))
    limit = as_int(first.header("x-limit"))
    with ctx.check(area, "X-Total-Count header", ctx.anchor("X-Total-Count")) as c:
        c.earlier.append(first.exchange)
        c.expect(total is not None and total >= 0, f"X-Total-Count is {first.header('x-total-count')!r}")
        c.expect(total is None or total >= len(first.data), f"X-Total-Count {total} < {len(first.data)} objects")
    with ctx.check(area, "X-Limit header", ctx.anchor("X-Limit")) as c:
        c.earlier.append(first.exchange)
        c.expect(limit is not None and limit > 0, f"X-Limit is {first.header('x-limit')!r}")
        c.expect(limit is None or len(first.data) <= limit, f"{len(first.data)} objects on a page, X-Limit {limit}")
    with ctx.check(area, "limit cap: at most limit objects, never more than X-Limit", page_anchor) as c:
        one = c.get(url, params={"limit": 1})
        data = require_success(c, one, "list with limit=1")
        c.expect(isinstance(data, list) and len(data) <= 1, f"{len(data or [])} objects for limit=1")
        many = c.get(url, params={"limit": 100000})
        data = require_success(c, many, "list with limit=100000")
        cap = as_int(many.header("x-limit"))
        c.expect(cap is not None and len(data) <= cap, f"{len(data)} objects for limit=100000 with X-Limit {cap}")
    filters = {"date_from": "2000-01-01T00:00:00Z", "date_to": "2999-01-01T00:00:00Z"}
    with ctx.check(area, "Link: absolute, same origin, keeps the filters", page_anchor) as c:
        answer = c.get(url, params={**filters, "limit": 1})
        data = require_success(c, answer, "list with date filters and limit=1")
        count = as_int(answer.header("x-total-count")) or 0
        link = next_link(answer)
        if count <= len(data):
            c.expect(link is None, "a Link to a next page on the last page")
            raise Skip(f"{count} object(s): no second page to link to")
        c.expect(link, 'no Link rel="next" while more objects follow')
        assert link is not None
        c.expect(is_absolute(link), f"the Link URL is not absolute: {link}")
        c.expect(same_origin(link, url), f"the Link URL leaves the origin of the list: {link}")
        query = parse_qs(urlsplit(link).query)
        lost = [k for k in filters if k not in query]
        c.expect(not lost, f"the Link URL drops {', '.join(lost)}: {link}")
    objects: list[Any] = []
    with ctx.check(area, "no object lost or repeated across pages", page_anchor) as c:
        if total is not None and total > ctx.options.max_objects:
            raise Skip(f"{total} objects, more than --max-objects {ctx.options.max_objects}")
        size = max(1, min(limit or 1, ((total or 0) + 2) // 3 or 1))
        objects, last = _walk(c, url, {"limit": size}, max_pages=ctx.options.max_objects + 5)
        keys = [_key(ctx, type_name, o) for o in objects]
        dupes = sorted({k for k in keys if keys.count(k) > 1})[:3]
        c.expect(not dupes, f"objects repeated across pages: {dupes}")
        last_total = as_int(last.header("x-total-count")) if last else None
        expected = total if last_total is None else last_total
        c.expect(
            expected is None or len(keys) == expected, f"{len(keys)} objects over all pages, X-Total-Count {expected}"
        )
        c.note(f"{len(keys)} objects in pages of {size}")
    with ctx.check(area, f"every object valid against {type_name} (strict)", _type_anchor(ctx, type_name)) as c:
        if not objects:
            objects = [o for o in first.data]
            c.earlier.append(first.exchange)
        if not objects:
            raise Skip("no objects to validate")
        problems: list[str] = []
        unknown: set[str] = set()
        for n, o in enumerate(objects):
            v = validate_object(ctx.spec, type_name, o, f"[{n}]")
            problems += v.problems
            unknown |= v.unknown_fields
        if unknown:
            c.note(f"fields OCPI {ctx.spec.version} does not define: {', '.join(sorted(unknown)[:5])}")
        c.expect(not problems, f"{len(problems)} problem(s): " + "; ".join(problems[:5]))
    _date_checks(ctx, area, endpoint.anchor, url, objects or list(first.data), type_name)


def _date_checks(ctx: Context, area: str, anchor: str, url: str, objects: list[Any], type_name: str) -> None:
    stamped = [o for o in objects if isinstance(o, dict) and instant(o.get("last_updated"))]
    for name, param, wanted in (
        ("date_from is inclusive", "date_from", True),
        ("date_to is exclusive", "date_to", False),
    ):
        with ctx.check(area, name, anchor) as c:
            if not stamped:
                raise Skip("no objects with last_updated")
            target = stamped[len(stamped) // 2]
            moment = instant(target["last_updated"])
            same = [o for o in stamped if instant(o["last_updated"]) == moment]
            found, _ = _walk(c, url, {param: target["last_updated"]}, max_pages=ctx.options.max_objects + 5)
            dated = [(instant(o.get("last_updated")), _key(ctx, type_name, o)) for o in found if isinstance(o, dict)]
            exact = [k for m, k in dated if m == moment]
            at = f"{param}={target['last_updated']}"
            if wanted:
                missing = [_key(ctx, type_name, o) for o in same if _key(ctx, type_name, o) not in exact]
                c.expect(not missing, f"{at}: left out {', '.join(missing[:3])}, stamped exactly then")
                early = [k for m, k in dated if m is not None and moment is not None and m < moment]
                c.expect(not early, f"{at}: returned older {', '.join(early[:3])}")
            else:
                c.expect(not exact, f"{at}: returned {', '.join(exact[:3])}, stamped exactly then")
                late = [k for m, k in dated if m is not None and moment is not None and m > moment]
                c.expect(not late, f"{at}: returned newer {', '.join(late[:3])}")


def _walk(c: Check, url: str, params: dict[str, Any], *, max_pages: int) -> tuple[list[Any], Answer | None]:
    """Every object of a list, following Link; Fail when a page fails or the chain loops."""
    objects: list[Any] = []
    answer: Answer | None = None
    seen: set[str] = set()
    next_url: str | None = url
    first = True
    while next_url is not None:
        if len(seen) >= max_pages:
            raise Fail(f"more than {max_pages} pages")
        answer = c.get(next_url, params=params if first else None)
        seen.add(str(answer.exchange.url))
        first = False
        data = require_success(c, answer, f"page {len(seen)}")
        if not isinstance(data, list):
            raise Fail(f"page {len(seen)}: data is not a list")
        objects += data
        link = next_link(answer)
        if link is None:
            break
        next_url = urljoin(answer.exchange.url, link)
        if next_url in seen:
            raise Fail(f"the Link of page {len(seen)} points back at a page already read")
        if not data:
            raise Fail(f"page {len(seen)} is empty but links to a next page")
    return objects, answer


def _key(ctx: Context, type_name: str, o: Any) -> str:
    t = ctx.spec.type(type_name)
    if not isinstance(o, dict) or not isinstance(t, ObjectType):
        return repr(o)
    key = id_field(t)
    parts = [str(o.get(name, "")).upper() for name in ("country_code", "party_id") if t.field_named(name)]
    return "/".join([*parts, str(o.get(key)) if key else repr(sorted(o.items()))])


def _type_anchor(ctx: Context, type_name: str) -> str:
    t = ctx.spec.type(type_name)
    return t.anchor


def _unknown_object(ctx: Context, area: str, endpoint: Endpoint, base: str) -> None:
    code = endpoint.not_found
    with ctx.check(area, f"unknown object: HTTP 404, status {code}, envelope", ctx.status_anchor(code)) as c:
        values = _path_values(ctx, endpoint, "UNKNOWN-" + secrets.token_hex(4).upper())
        answer = c.get(endpoint_url(base, endpoint, values))
        problem = envelope_problem(ctx, answer)
        c.expect(answer.status == 404, f"HTTP {answer.status} for an unknown object, expected 404")
        c.expect(problem is None, str(problem))
        c.expect(answer.status_code == code, f"status_code {answer.status_code}, expected {code}")


def _path_values(ctx: Context, endpoint: Endpoint, object_id: str) -> dict[str, str]:
    return {p.name: ctx.placeholder(p.name, object_id) for p in endpoint.path_params}


# -- receivers (--write) -------------------------------------------------------------------------------


def write(ctx: Context) -> None:
    """PUT, GET, PATCH, DELETE of test objects owned by ``--party`` on every receiver interface."""
    for interface in ctx.interfaces():
        base = ctx.url_of(interface)
        by_method: dict[str, Endpoint] = {}
        for e in interface.endpoints:
            b = e.server
            if b is None or b.object is None or b.owner != "url" or b.nested or len(e.path_params) > 3:
                continue
            if b.kind in ("put", "patch", "get", "delete"):
                by_method.setdefault(b.kind, e)
        put = by_method.get("put")
        if put is None:
            continue
        area = f"write {interface.module_id}"
        if base is None:
            ctx.skip(area, "all receiver checks", put.anchor, "module not offered")
            continue
        _write_checks(ctx, area, base, put, by_method)


def _write_checks(ctx: Context, area: str, base: str, put: Endpoint, by: dict[str, Endpoint]) -> None:
    assert put.server is not None and put.server.object is not None
    type_name = put.server.object
    t = ctx.spec.type(type_name)
    assert isinstance(t, ObjectType)
    oid = "CONF" + secrets.token_hex(4).upper()
    url = endpoint_url(base, put, _path_values(ctx, put, oid))
    stamp = now_stamp()
    single = len(put.path_params) == 2  # one object per party (hubclientinfo)
    body = sample(ctx.spec, type_name, owner=ctx.options.party, object_id=None if single else oid, last_updated=stamp)
    key = id_field(t)
    get = by.get("get")
    stored = False
    with ctx.check(area, f"PUT stores a new {type_name}", put.anchor) as c:
        answer = c.request("PUT", url, body=body)
        require_success(c, answer, "PUT")
        stored = True
    with ctx.check(area, f"GET returns the {type_name} as it was PUT", (get or put).anchor) as c:
        if get is None:
            raise Skip("the receiver interface has no GET")
        if not stored:
            raise Skip("the PUT failed")
        got = require_success(c, c.get(url), "GET")
        problems = validate_object(ctx.spec, type_name, got).problems
        c.expect(not problems, "; ".join(problems[:5]))
        differ = [f for f in body if f in got and not _same(body[f], got[f]) and not isinstance(body[f], (dict, list))]
        c.expect(not differ, f"fields differ from the PUT body: {', '.join(differ[:5])}")
    patch = by.get("patch")
    with ctx.check(area, f"PATCH changes only the given fields of the {type_name}", (patch or put).anchor) as c:
        if patch is None:
            raise Skip("the receiver interface has no PATCH")
        if get is None or not stored:
            raise Skip("no GET to see the change" if get is None else "the PUT failed")
        field = _patchable(t, body)
        if field is None:
            raise Skip(f"no optional text field of {type_name} to change")
        new_stamp = now_stamp(1)
        changes: dict[str, Any] = {field: "patched"[: _length(t, field)]}
        if "last_updated" in body:
            changes["last_updated"] = new_stamp
        require_success(c, c.request("PATCH", url, body=changes), "PATCH")
        got = require_success(c, c.get(url), "GET after PATCH")
        c.expect(
            isinstance(got, dict) and got.get(field) == changes[field], f"{field} is {got.get(field)!r} after PATCH"
        )
        if "last_updated" in changes:
            c.expect(instant(got.get("last_updated")) == instant(new_stamp), "last_updated was not updated")
        others = [f for f in body if f not in changes and f in got and not _same(body[f], got[f])]
        others = [f for f in others if not isinstance(body[f], (dict, list))]
        c.expect(not others, f"PATCH changed other fields: {', '.join(others[:5])}")
    if key is not None and not single:
        other_id = "CONF" + secrets.token_hex(4).upper()
        other_url = endpoint_url(base, put, _path_values(ctx, put, other_id))
        with ctx.check(area, f"PUT with a body {key} other than the URL's is refused", put.anchor) as c:
            answer = c.request("PUT", other_url, body={**body, key: other_id + "X"})
            c.expect(
                answer.status is not None and 400 <= answer.status < 500 and answer.status_code != SUCCESS,
                f"HTTP {answer.status}, status_code {answer.status_code} for a mismatched id",
            )
            if get is not None:
                c.expect(c.get(other_url).status == 404, "the mismatched object was stored anyway")
        if t.field_named("country_code") and t.field_named("party_id"):
            with ctx.check(area, "PUT with a body owner other than the URL's is refused", put.anchor) as c:
                owner = {"country_code": "ZZ", "party_id": "ZZZ"}
                answer = c.request("PUT", other_url, body={**body, key: other_id, **owner})
                c.expect(
                    answer.status is not None and 400 <= answer.status < 500 and answer.status_code != SUCCESS,
                    f"HTTP {answer.status}, status_code {answer.status_code} for a mismatched owner",
                )
        if get is not None:
            _unknown_object(ctx, area, get, base)
    delete = by.get("delete")
    with ctx.check(area, f"DELETE removes the {type_name}", (delete or put).anchor) as c:
        if delete is None:
            raise Skip("the receiver interface has no DELETE; the test object stays")
        require_success(c, c.request("DELETE", url), "DELETE")
        if get is not None:
            c.expect(c.get(url).status == 404, "the object is still there after DELETE")


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return Decimal(str(a)) == Decimal(str(b))
    if isinstance(a, str) and isinstance(b, str) and instant(a) and instant(b):
        return instant(a) == instant(b)
    return bool(a == b)


def _patchable(t: ObjectType, body: dict[str, Any]) -> str | None:
    for f in t.fields:
        if f.name in ("id", "uid", "country_code", "party_id", "last_updated") or f.is_list:
            continue
        if f.type.primitive and f.type.name == "string" and f.name in body:
            return f.name
    return None


def _length(t: ObjectType, name: str) -> int:
    f = t.field_named(name)
    return (f.type.length if f and f.type.length else 7) or 7
