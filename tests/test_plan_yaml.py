"""``plan.dump_yaml`` writes the documents' block YAML itself (``_BlockWriter``) or, for data outside
its reach, builds YAML nodes itself and remembers the resolver's answers (for speed); its bytes must
stay those of the plain libyaml SafeDumper with the same settings."""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.plan import _BlockWriter, dump_yaml

_BASE = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Plain(_BASE):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def plain(data: Any) -> str:
    text: str = yaml.dump(data, Dumper=_Plain, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return text


#: Texts that YAML reads as something else unless quoted, texts that need quotes or folding.
TRICKY = [
    "",
    " ",
    "yes",
    "No",
    "null",
    "~",
    "true",
    "1",
    "0x1F",
    "1.5",
    "1e3",
    ".inf",
    "2024-01-01",
    "12:30",
    "<<",
    "=",
    "- a",
    "a: b",
    "#x",
    "x #y",
    "'q'",
    '"q"',
    "@at",
    "%p",
    "{a}",
    "[a]",
    "*ref",
    "&anchor",
    "!tag",
    "a\nb",
    "a\n\nb\n",
    "trailing ",
    "tab\there",
    "ünïcödé ✓",
    "\u00a0nbsp",
    "\x85nel",
    "\ufeffbom",
    "word " * 40,
    "x" * 130,
    "/locations/{country_code}/{party_id}",
    "$ref",
    "#/components/schemas/Location",
]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=30),
    st.text(alphabet="ab :-#'\"\n", max_size=150),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12), st.integers(), st.booleans())
data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data)
def test_same_bytes_as_the_plain_dumper(value: Any) -> None:
    assert dump_yaml(value) == plain(value)


@pytest.mark.parametrize("value", [{"a": TRICKY, "b": {k: k for k in TRICKY}}, {"n": [[], {}, [[]], {"x": {}}]}])
def test_same_bytes_on_tricky_texts(value: Any) -> None:
    assert dump_yaml(value) == plain(value)


def test_resolver_memo_does_not_leak_between_tags() -> None:
    # The same text as a str and as the int it looks like: the str is quoted, the int is not.
    assert dump_yaml({"a": "12", "b": 12, "c": "12"}) == "a: '12'\nb: 12\nc: '12'\n"


def test_other_types_still_go_through_the_representer() -> None:
    with pytest.raises(yaml.representer.RepresenterError):
        dump_yaml({"a": Decimal("1.5")})
    assert dump_yaml({"f": 1.0, "g": float("inf")}) == "f: 1.0\ng: .inf\n"


# Data in the writer's reach: printable ASCII words joined by single spaces (indicators included),
# long enough to be folded at every depth.
words = st.text(
    alphabet=string.ascii_letters + string.digits + "-:#'\"?,[]{}&*!|>%@`./$()=+_~", min_size=1, max_size=14
)
texts = st.lists(words, min_size=1, max_size=40).map(" ".join)
fast_scalars = st.one_of(
    texts,
    words,
    st.sampled_from([t for t in TRICKY if t.isascii() and t.isprintable()]),
    st.integers(),
    st.booleans(),
    st.none(),
)
fast_keys = st.one_of(words, texts.filter(lambda t: len(t) < 60), st.integers())
fast_data = st.dictionaries(
    fast_keys,
    st.recursive(
        fast_scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(fast_keys, inner, max_size=4)),
        max_leaves=40,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=400, deadline=None)
@given(fast_data)
def test_the_block_writer_writes_what_libyaml_writes(value: Any) -> None:
    assert dump_yaml(value) == plain(value)


def test_the_block_writer_writes_the_openapi_documents() -> None:
    from generator.openapi import documents, shared_document
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec
    from generator.plan import DEFAULT_INFO

    spec = load_spec(SPEC_ROOT, "2.2.1")
    for doc in documents(spec):
        body = shared_document(spec, doc, DEFAULT_INFO)
        written = _BlockWriter().document(body)
        assert written is not None and written == plain(body)


@pytest.mark.parametrize(
    "value", [{"a": "tab\there"}, {"a": "two  spaces"}, {"a": "ünï"}, {"a": 1.5}, {"a": [[1]]}, {True: 1}, {"a": " x"}]
)
def test_data_outside_the_writer_goes_to_libyaml(value: Any) -> None:
    assert _BlockWriter().document(value) is None
    assert dump_yaml(value) == plain(value)
