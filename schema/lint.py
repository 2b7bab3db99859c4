"""Lint rules for the API schema: naming conventions, descriptions and deprecation reasons.

Each rule has a severity: ``error`` fails ``labs64 schema check``, ``warning`` is reported only,
``off`` skips the rule. The configuration is the ``[tool.labs64.schema-lint]`` table of
``pyproject.toml``::

    [tool.labs64.schema-lint]
    ignore = ["Query.legacyField", "*Edge"]  # coordinates no rule reports; * and ? are wildcards

    [tool.labs64.schema-lint.rules]
    type-descriptions = "warning"
    field-descriptions = "off"
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_scalar_type,
)

__all__ = ["LintConfig", "LintConfigError", "LintRule", "LintSeverity", "LintViolation", "RULES", "lint_schema"]


class LintSeverity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    OFF = "off"


class LintConfigError(ValueError):
    """The lint configuration names an unknown rule or severity, or is not valid TOML."""


@dataclass(frozen=True)
class LintViolation:
    """One element of the schema that breaks one rule."""

    rule: str
    severity: LintSeverity
    coordinate: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity.value, "coordinate": self.coordinate, "message": self.message}


@dataclass(frozen=True)
class LintRule:
    """A named check over the schema with its default severity."""

    name: str
    description: str
    default: LintSeverity
    check: Callable[[GraphQLSchema], Iterator[tuple[str, str]]]


_PASCAL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CAMEL_CASE = re.compile(r"^[a-z][A-Za-z0-9]*$")
_UPPER_CASE = re.compile(r"^[A-Z][A-Z0-9_]*$")

# graphql-core fills in this reason when `@deprecated` is applied without one.
_DEFAULT_DEPRECATION_REASON = "No longer supported"


def _named_types(schema: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    for named in schema.type_map.values():
        if not is_introspection_type(named) and not is_specified_scalar_type(named):
            yield named


def _root_types(schema: GraphQLSchema) -> list[GraphQLObjectType]:
    return [root for root in (schema.query_type, schema.mutation_type, schema.subscription_type) if root is not None]


def _fields(schema: GraphQLSchema) -> Iterator[tuple[str, object]]:
    """Yield ``(coordinate, field)`` for every output field, argument and input field."""
    for named in _named_types(schema):
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, definition in named.fields.items():
                yield f"{named.name}.{field_name}", definition
                for argument_name, argument in definition.args.items():
                    yield f"{named.name}.{field_name}({argument_name}:)", argument
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, definition in named.fields.items():
                yield f"{named.name}.{field_name}", definition


def _type_names(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for named in _named_types(schema):
        if not _PASCAL_CASE.match(named.name):
            yield named.name, f"type name {named.name!r} is not PascalCase"


def _field_names(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for coordinate, _definition in _fields(schema):
        name = coordinate.rsplit("(", 1)[-1].rstrip(":)") if "(" in coordinate else coordinate.split(".", 1)[1]
        if not _CAMEL_CASE.match(name):
            yield coordinate, f"name {name!r} is not camelCase"


def _enum_values(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for named in _named_types(schema):
        if isinstance(named, GraphQLEnumType):
            for value_name in named.values:
                if not _UPPER_CASE.match(value_name):
                    yield f"{named.name}.{value_name}", f"enum value {value_name!r} is not UPPER_CASE"


def _input_suffix(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for named in _named_types(schema):
        if isinstance(named, GraphQLInputObjectType) and not named.name.endswith("Input"):
            yield named.name, f"input type {named.name!r} does not end with 'Input'"


def _type_descriptions(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    roots = {root.name for root in _root_types(schema)}
    for named in _named_types(schema):
        if named.name not in roots and not (named.description or "").strip():
            yield named.name, f"type {named.name} has no description"


def _root_field_descriptions(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for root in _root_types(schema):
        for field_name, definition in root.fields.items():
            if not (definition.description or "").strip():
                yield f"{root.name}.{field_name}", f"public field {root.name}.{field_name} has no description"


def _field_descriptions(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    for coordinate, definition in _fields(schema):
        if "(" not in coordinate and not (getattr(definition, "description", None) or "").strip():
            yield coordinate, f"field {coordinate} has no description"


def _deprecation_reasons(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    def missing(reason: str | None) -> bool:
        return not (reason or "").strip() or reason == _DEFAULT_DEPRECATION_REASON

    for coordinate, definition in _fields(schema):
        reason = getattr(definition, "deprecation_reason", None)
        if reason is not None and missing(reason):
            yield coordinate, f"{coordinate} is deprecated without a reason; say what to use instead"
    for named in _named_types(schema):
        if isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                if value.deprecation_reason is not None and missing(value.deprecation_reason):
                    yield f"{named.name}.{value_name}", f"{named.name}.{value_name} is deprecated without a reason; say what to use instead"


def _mutation_input(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    if schema.mutation_type is None:
        return
    for field_name, definition in schema.mutation_type.fields.items():
        if list(definition.args) != ["input"]:
            yield f"Mutation.{field_name}", f"mutation {field_name} should take one argument named 'input'"


RULES: dict[str, LintRule] = {
    rule.name: rule
    for rule in (
        LintRule("type-names-pascal-case", "Type names are PascalCase.", LintSeverity.ERROR, _type_names),
        LintRule("field-names-camel-case", "Field, argument and input field names are camelCase.", LintSeverity.ERROR, _field_names),
        LintRule("enum-values-upper-case", "Enum values are UPPER_CASE.", LintSeverity.ERROR, _enum_values),
        LintRule("input-type-suffix", "Input object type names end with 'Input'.", LintSeverity.ERROR, _input_suffix),
        LintRule("root-field-descriptions", "Every field of Query, Mutation and Subscription has a description.", LintSeverity.ERROR, _root_field_descriptions),
        LintRule("type-descriptions", "Every type except the root types has a description.", LintSeverity.WARNING, _type_descriptions),
        LintRule("field-descriptions", "Every field and input field has a description.", LintSeverity.OFF, _field_descriptions),
        LintRule("deprecation-reason", "Every @deprecated gives a reason.", LintSeverity.ERROR, _deprecation_reasons),
        LintRule("mutation-input-argument", "Every mutation takes a single argument named 'input'.", LintSeverity.WARNING, _mutation_input),
    )
}


@dataclass(frozen=True)
class LintConfig:
    """Severity per rule, and coordinate patterns (``fnmatch`` wildcards) that no rule reports."""

    severities: dict[str, LintSeverity] = field(default_factory=lambda: {name: rule.default for name, rule in RULES.items()})
    ignore: frozenset[str] = frozenset()
    #: The file the configuration was read from, or None for the defaults.
    source: Path | None = None

    @classmethod
    def from_table(cls, table: dict, source: Path | None = None) -> LintConfig:
        """Build a configuration from a ``[tool.labs64.schema-lint]`` table, checking every name."""
        unknown_keys = set(table) - {"rules", "ignore"}
        if unknown_keys:
            raise LintConfigError(f"{source}: unknown keys {sorted(unknown_keys)} in [tool.labs64.schema-lint]; expected 'rules' and 'ignore'")
        severities = {name: rule.default for name, rule in RULES.items()}
        for name, value in (table.get("rules") or {}).items():
            if name not in RULES:
                raise LintConfigError(f"{source}: unknown lint rule {name!r}; known rules: {', '.join(sorted(RULES))}")
            try:
                severities[name] = LintSeverity(value)
            except ValueError as error:
                raise LintConfigError(f"{source}: rule {name!r} has severity {value!r}; use 'error', 'warning' or 'off'") from error
        ignore = table.get("ignore") or []
        if not isinstance(ignore, list) or not all(isinstance(item, str) for item in ignore):
            raise LintConfigError(f"{source}: 'ignore' must be a list of schema coordinates such as \"Query.legacy\"")
        return cls(severities=severities, ignore=frozenset(ignore), source=source)

    @classmethod
    def load(cls, path: Path) -> LintConfig:
        """Read ``[tool.labs64.schema-lint]`` from a TOML file; a file without the table gives the defaults."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise LintConfigError(f"lint configuration {path} not found") from error
        except tomllib.TOMLDecodeError as error:
            raise LintConfigError(f"lint configuration {path} is not valid TOML: {error}") from error
        table = document.get("tool", {}).get("labs64", {}).get("schema-lint")
        if table is None:
            return cls(source=path)
        return cls.from_table(table, source=path)


def lint_schema(schema: GraphQLSchema, config: LintConfig | None = None) -> list[LintViolation]:
    """Run every rule that is not off; return the violations, errors first."""
    config = config or LintConfig()
    violations = []
    for name, rule in RULES.items():
        severity = config.severities.get(name, rule.default)
        if severity is LintSeverity.OFF:
            continue
        for coordinate, message in rule.check(schema):
            if not any(fnmatch.fnmatchcase(coordinate, pattern) for pattern in config.ignore):
                violations.append(LintViolation(name, severity, coordinate, message))
    return sorted(violations, key=lambda v: (v.severity is not LintSeverity.ERROR, v.rule, v.coordinate))
