"""`monstack init`: a commented starter spec, rendered from the Jinja2 template shipped with the package."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import EXIT_UNUSABLE, MonstackError


def templates_dir() -> Path:
    """`monstack/templates` in an installed wheel; the repository's `templates/` in a development checkout."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


def starter_spec(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise MonstackError.single(f"invalid project name {name!r}: use lower case, digits and dashes",
                                   check="init", exit_code=EXIT_UNUSABLE)
    import jinja2  # noqa: PLC0415

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    return env.get_template("init.yaml.j2").render(name=name)
