"""Model-family settings: each default and its meaning live once, on a dataclass field; a dbt var overrides them.

A family's settings class (`PropensityConfig`, `SegmentSettings`) declares every field with `setting(default,
doc)`. The project changes what it needs through one dbt var per family (`journeys_propensity`,
`journeys_segments`: a mapping of field names), which the model YAML renders with `tojson` into
`meta.<family>.overrides`; `load` merges it onto the defaults, types every value from the field's annotation,
refuses an unknown key and names a missing required one. README's configuration tables are `markdown_table`'s
output (a test compares them), so the docs cannot drift from the defaults.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

DOC, PARSE, VAR = "doc", "parse", "var"


def setting(default: Any = dataclasses.MISSING, doc: str = "", *, parse: Callable[[Any], Any] | None = None,
            var: str | None = None) -> Any:
    """A settings field: its default (none: required), one line saying what it sets, an optional parser for
    values the annotation cannot type alone, and `var` for a setting read from a top-level dbt var (the SQL
    layer reads it too) instead of the family's mapping."""
    metadata = {DOC: doc, PARSE: parse, VAR: var}
    if isinstance(default, (list, dict, set)):
        raise TypeError("settings defaults are immutable: use a tuple")
    return dataclasses.field(default=default, metadata=metadata)


def load(cls: type, overrides: Any, family_var: str, shared: Mapping[str, Any] | None = None,
         run: Mapping[str, Any] | None = None) -> Any:
    """An instance of settings class `cls`: its defaults, `overrides` (the family var's mapping, or its JSON
    text as the YAML renders it) on top, `shared` (values of the fields declared with `var=`) and `run` (paths
    and modes the build passes, fields without a default)."""
    given = _mapping(overrides, family_var)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    from_vars = {name for name, field in fields.items() if field.metadata.get(VAR)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        settable = sorted(name for name in fields if name not in from_vars and _has_default(fields[name]))
        raise ValueError(f"var {family_var}: unknown key(s) {', '.join(unknown)}; known: {', '.join(settable)}")
    misplaced = sorted(set(given) & from_vars)
    if misplaced:
        raise ValueError(f"var {family_var}: {', '.join(misplaced)} is set by the top-level var "
                         f"{fields[misplaced[0]].metadata[VAR]} (the SQL layer reads it too)")
    values = {**dict(run or {}), **{name: (shared or {})[name] for name in from_vars if name in (shared or {})},
              **given}
    missing = sorted(name for name, field in fields.items() if name not in values and not _has_default(field))
    if missing:
        raise ValueError(f"{cls.__name__} needs {', '.join(missing)} (the model YAML passes "
                         f"{'them' if len(missing) > 1 else 'it'} in meta)")
    typed = {}
    for name, value in values.items():
        field = fields[name]
        try:
            parser = field.metadata.get(PARSE)
            typed[name] = parser(value) if parser else coerce(value, hints[name])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"var {field.metadata.get(VAR) or family_var}: {name}={value!r}: {exc}") from None
    return cls(**typed)


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _mapping(value: Any, family_var: str) -> dict[str, Any]:
    """The family var as a dict: given as a mapping, or as the JSON (or YAML) text Jinja rendered."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        value = yaml.safe_load(value)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"var {family_var} must be a mapping of setting names to values, got {value!r}")
    return dict(value)


def coerce(value: Any, annotation: Any) -> Any:
    """`value` (a YAML / JSON value, or text from `--vars` and Jinja) as `annotation` says: int, float, str,
    bool, Path, a Literal's choices, tuples, and unions with None."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        missing = value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null", ""))
        if missing and type(None) in args:
            return None
        problems = []
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce(value, option)
            except (TypeError, ValueError) as exc:
                problems.append(str(exc))
        raise ValueError("; ".join(problems))
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"must be one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = _parse_text(value)
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"must be a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(item, args[0]) for item in value)
        if len(value) != len(args):
            raise ValueError(f"must be a list of {len(args)} values")
        return tuple(coerce(item, arg) for item, arg in zip(value, args, strict=True))
    if annotation is bool:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if annotation is int:
        number = _parse_text(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or float(number) != int(number):
            raise ValueError("must be a whole number")
        return int(number)
    if annotation is float:
        number = _parse_text(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ValueError("must be a number")
        return float(number)
    if annotation is str:
        if isinstance(value, (dict, list, tuple)):
            raise ValueError("must be text")
        return str(value)
    if annotation is Path:
        return Path(str(value))
    raise TypeError(f"no rule to read a setting of type {annotation}")


def _parse_text(text: str) -> Any:
    """Text of a list or number as it arrives from `--vars` or Jinja (JSON, YAML, or Python's repr)."""
    return yaml.safe_load(text.replace("None", "null")) if text.strip() else text


def _display(value: Any) -> Any:
    """A default as the project would write it: tuples as lists, a mapping kept as sorted pairs as a mapping."""
    if isinstance(value, tuple):
        if value and all(isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) for pair in value):
            return dict(value)
        return [_display(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def markdown_table(cls: type, family_var: str) -> str:
    """README's table of a family's settings: key, default (as YAML writes it) and what it sets."""
    lines = [f"| `{family_var}` key | default | what it sets |", "|---|---|---|"]
    for field in dataclasses.fields(cls):
        if not _has_default(field) or field.metadata.get(VAR):
            continue
        default = json.dumps(_display(field.default))
        lines.append(f"| `{field.name}` | `{default}` | {field.metadata.get(DOC, '')} |")
    return "\n".join(lines)


def settings_tables() -> str:
    """README's tables of every model family's settings (`journeys settings` prints them)."""
    from journeys.propensity.config import FAMILY_VAR as PROPENSITY_VAR
    from journeys.propensity.config import PropensityConfig
    from journeys.segments.config import FAMILY_VAR as SEGMENTS_VAR
    from journeys.segments.config import SegmentSettings

    return f"{markdown_table(SegmentSettings, SEGMENTS_VAR)}\n\n{markdown_table(PropensityConfig, PROPENSITY_VAR)}"
