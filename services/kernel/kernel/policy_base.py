"""The district-policy machinery every policy section is built with: errors naming the file
and the dotted field path, strict field types, cross-field rule helpers, the YAML reader and
the translation of pydantic errors into problems
(:class:`PolicyProblem`).

The kernel's :mod:`kernel.policy` (the shared sections and the loader) and each service's
``<service>.policy`` (the sections it owns) are written with these, so a mistake in any
section of a district's one YAML file reads the same, e.g. ``fuyuan.yaml:
dispute.ladder[2].step: steps must be numbered 1, 2, 3, … in order``.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

__all__ = [
    "Bool",
    "NonNegativeInt",
    "PolicyError",
    "PolicyModel",
    "PolicyProblem",
    "PositiveInt",
    "RuleViolations",
    "Slug",
    "Text",
    "check",
    "duplicates",
    "problems_of",
    "read_policy_mapping",
    "validate_policy",
]

# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy file: where (dotted field path) and what."""

    path: str
    message: str


class PolicyError(ValueError):
    """A district policy cannot be loaded; ``str()`` lists every problem, one per line."""

    def __init__(self, file: str, problems: Sequence[PolicyProblem]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(
                f"{file}: {p.path}: {p.message}" if p.path else f"{file}: {p.message}"
                for p in self.problems
            )
        )


class RuleViolations(ValueError):
    """Cross-field rule failures raised inside model validators.

    Each is (field relative to the model, message). ``{at}`` in a message stands for the
    model's own path so the loader can name sibling fields absolutely
    (``must be ≥ send.limit_working_days``) although the model does not know where it sits.
    """

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{f}: {m.replace('{at}', '')}" for f, m in violations))


def check(violations: list[tuple[str, str]]) -> None:
    if violations:
        raise RuleViolations(violations)


# --------------------------------------------------------------------------- field types

# Strict numbers: YAML "5" (a string) or `true` must not pass as a count of days.
PositiveInt = Annotated[int, Strict(), Field(ge=1)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
Bool = Annotated[bool, Strict()]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
Text = Annotated[str, Field(min_length=1)]


class PolicyModel(BaseModel):
    """Base of every policy section: unknown keys refused (a misspelt key must not fall back
    to a default), immutable, field docstrings kept as descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def duplicates(list_name: str, values: list[str], attr: str | None) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for i, v in enumerate(values):
        if v in seen:
            where = f"{list_name}[{i}].{attr}" if attr else f"{list_name}[{i}]"
            out.append((where, f"duplicate {v!r}"))
        seen.add(v)
    return out


# --------------------------------------------------------------------------- reading YAML


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: let the normal constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def read_policy_mapping(text: str, source: str) -> dict[str, Any]:
    """The top-level mapping of a policy file's YAML text; ``source`` names it in errors."""
    try:
        data = yaml.load(
            text, Loader=_UniqueKeyLoader
        )  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or "invalid YAML"
        if exc.context:
            what += f" ({exc.context})"
        raise PolicyError(source, [PolicyProblem("", f"{where}YAML syntax error: {what}")]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(source, [PolicyProblem("", f"YAML syntax error: {exc}")]) from exc
    if not isinstance(data, dict):
        raise PolicyError(
            source,
            [
                PolicyProblem(
                    "", f"the file must be a mapping of policy fields, got {type(data).__name__}"
                )
            ],
        )
    return data


# --------------------------------------------------------------------------- errors of pydantic


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated):
        for arg in get_args(annotation):
            found = _model_class(arg)
            if found is not None:
                return found
    return None


def _fields_at(root: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """Field names allowed at ``loc`` (the location of an unknown key, minus the key)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _model_class(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def problems_of(error: ValidationError, root: type[BaseModel]) -> list[PolicyProblem]:
    """The problems of a failed validation of ``root``, paths relative to the file."""
    out: list[PolicyProblem] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        here = _path(loc)
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, RuleViolations):
            prefix = f"{here}." if here else ""
            for field, message in ctx_error.violations:
                out.append(PolicyProblem(prefix + field, message.replace("{at}", prefix)))
        elif err["type"] == "extra_forbidden":
            allowed = _fields_at(root, loc[:-1])
            near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            out.append(
                PolicyProblem(
                    here, f"unknown field{hint}; allowed here: {', '.join(sorted(allowed))}"
                )
            )
        elif err["type"] == "missing":
            out.append(PolicyProblem(here, "required field is missing"))
        elif err["type"] == "value_error":
            out.append(PolicyProblem(here, str(ctx_error) if ctx_error else err["msg"]))
        else:
            msg = err["msg"]
            msg = msg[:1].lower() + msg[1:]
            out.append(PolicyProblem(here, f"{msg}, got {_describe(err['input'])}"))
    return out


M = TypeVar("M", bound=BaseModel)


def validate_policy(model: type[M], data: Mapping[str, Any], source: str) -> M:
    """``model`` validated from ``data`` (a policy file's mapping); a :class:`PolicyError`
    naming ``source`` and every field path that is wrong otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, problems_of(exc, model)) from None
