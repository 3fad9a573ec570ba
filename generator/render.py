"""Jinja2 rendering: one strict environment over ``templates/``.

No name filters: templates print names the views took from ``generator.naming``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from generator.paths import TEMPLATES_ROOT


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_ROOT)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
