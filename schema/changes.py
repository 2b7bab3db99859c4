"""Classify the differences between two API schemas as breaking, dangerous or safe.

graphql-core's ``find_schema_changes`` finds and classifies the changes. This module adds what a
review needs on top: the schema coordinate each change is about, and which coordinates an
operation must use to be affected by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from graphql import BreakingChangeType, DangerousChangeType, GraphQLSchema, find_schema_changes

__all__ = ["ChangeSeverity", "SchemaChange", "diff_schemas"]


class ChangeSeverity(str, Enum):
    """Effect of a change on existing operations."""

    BREAKING = "breaking"
    """Existing operations that use the element can fail."""
    DANGEROUS = "dangerous"
    """Existing operations stay valid but may behave differently, such as a new enum value."""
    SAFE = "safe"
    """No existing operation can notice the change."""


_NAME = r"[_A-Za-z][_0-9A-Za-z]*"

# For each breaking change type: a pattern over graphql-core's description that captures the
# coordinates an operation must all use to be affected. graphql-core 3.3 words every description
# around the element's coordinate, for example "Field User.email was removed.".
_BREAKING_PATTERNS: dict[BreakingChangeType, re.Pattern[str]] = {
    BreakingChangeType.TYPE_REMOVED: re.compile(rf"^(?:Standard scalar )?(?P<type>{_NAME}) was removed"),
    BreakingChangeType.TYPE_CHANGED_KIND: re.compile(rf"^(?P<type>{_NAME}) changed from"),
    BreakingChangeType.TYPE_REMOVED_FROM_UNION: re.compile(rf"^(?P<member>{_NAME}) was removed from union type (?P<type>{_NAME})"),
    # Removing an enum value breaks clients that send it, and clients that switch over every
    # value they read, so every operation that touches the enum type is affected.
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM: re.compile(rf"^Enum value (?P<type>{_NAME})\.{_NAME} was removed"),
    BreakingChangeType.REQUIRED_INPUT_FIELD_ADDED: re.compile(rf"^A required field (?P<type>{_NAME})\.{_NAME} was added"),
    BreakingChangeType.IMPLEMENTED_INTERFACE_REMOVED: re.compile(rf"^(?P<member>{_NAME}) no longer implements interface (?P<type>{_NAME})"),
    BreakingChangeType.FIELD_REMOVED: re.compile(rf"^Field (?P<field>{_NAME}\.{_NAME}) was removed"),
    BreakingChangeType.FIELD_CHANGED_KIND: re.compile(rf"^Field (?P<field>{_NAME}\.{_NAME}) changed type"),
    # A new required argument breaks every operation that selects the field without it.
    BreakingChangeType.REQUIRED_ARG_ADDED: re.compile(rf"^A required argument (?P<field>{_NAME}\.{_NAME})\({_NAME}:\) was added"),
    BreakingChangeType.ARG_REMOVED: re.compile(rf"^Argument (?P<argument>{_NAME}\.{_NAME}\({_NAME}:\)) was removed"),
    BreakingChangeType.ARG_CHANGED_KIND: re.compile(rf"^Argument (?P<argument>{_NAME}\.{_NAME}\({_NAME}:\)) has changed type"),
    BreakingChangeType.DIRECTIVE_REMOVED: re.compile(rf"^Directive (?P<directive>@{_NAME}) was removed"),
    BreakingChangeType.DIRECTIVE_ARG_REMOVED: re.compile(rf"^Argument (?P<argument>@{_NAME}\({_NAME}:\)) was removed"),
    BreakingChangeType.REQUIRED_DIRECTIVE_ARG_ADDED: re.compile(rf"^A required argument (?P<directive>@{_NAME})\({_NAME}:\) was added"),
    BreakingChangeType.DIRECTIVE_REPEATABLE_REMOVED: re.compile(rf"^Repeatable flag was removed from (?P<directive>@{_NAME})"),
    BreakingChangeType.DIRECTIVE_LOCATION_REMOVED: re.compile(rf"^{_NAME} was removed from (?P<directive>@{_NAME})"),
}

# Dangerous changes affect operations that touch the named type, field or argument.
_DANGEROUS_PATTERNS: dict[DangerousChangeType, re.Pattern[str]] = {
    DangerousChangeType.VALUE_ADDED_TO_ENUM: re.compile(rf"^Enum value (?P<type>{_NAME})\.{_NAME} was added"),
    DangerousChangeType.TYPE_ADDED_TO_UNION: re.compile(rf"^{_NAME} was added to union type (?P<type>{_NAME})"),
    DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED: re.compile(rf"^An optional field (?P<type>{_NAME})\.{_NAME} was added"),
    DangerousChangeType.OPTIONAL_ARG_ADDED: re.compile(rf"^An optional argument (?P<field>{_NAME}\.{_NAME})\({_NAME}:\) was added"),
    DangerousChangeType.IMPLEMENTED_INTERFACE_ADDED: re.compile(rf"^(?P<type>{_NAME}) added to interfaces implemented by {_NAME}"),
    DangerousChangeType.ARG_DEFAULT_VALUE_CHANGE: re.compile(rf"^(?P<argument>@?{_NAME}(?:\.{_NAME})?\({_NAME}:\)) (?:defaultValue was removed|has changed defaultValue)"),
    DangerousChangeType.INPUT_FIELD_DEFAULT_VALUE_CHANGE: re.compile(rf"^(?P<field>{_NAME}\.{_NAME}) (?:defaultValue was removed|has changed defaultValue)"),
}

# The coordinate of a change, for display: the most specific element its description names.
_COORDINATE = re.compile(rf"@?{_NAME}(?:\.{_NAME})?(?:\({_NAME}:\))?")


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two API schemas."""

    severity: ChangeSeverity
    #: graphql-core's change type name, such as ``FIELD_REMOVED``.
    kind: str
    message: str
    #: The schema element the change is about, such as ``User.email``.
    coordinate: str | None
    #: Coordinates an operation must all use to be affected; empty when no operation can be.
    requires: tuple[str, ...] = ()

    def affects(self, coordinates: frozenset[str]) -> bool:
        """Return whether an operation using ``coordinates`` is affected by this change."""
        return bool(self.requires) and all(required in coordinates for required in self.requires)

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "kind": self.kind,
            "message": self.message,
            "coordinate": self.coordinate,
        }


def _requirements(change_type: Enum, message: str) -> tuple[str, ...]:
    pattern = _BREAKING_PATTERNS.get(change_type) or _DANGEROUS_PATTERNS.get(change_type)  # type: ignore[call-overload]
    if pattern is None:
        return ()
    match = pattern.search(message)
    if match is None:
        return ()
    return tuple(value for value in match.groupdict().values() if value)


def _coordinate(message: str) -> str | None:
    # The first token with a dot, a parenthesis or an @ is the most specific element named.
    # Type-level messages name only the type, so then the first name in the message is the type.
    words = _COORDINATE.findall(message)
    specific = [word for word in words if "." in word or "(" in word or word.startswith("@")]
    if specific:
        return specific[0]
    skip = {"Standard", "scalar", "Enum", "value", "Field", "Argument", "Directive", "Description", "of", "A", "An"}
    names = [word for word in words if word not in skip]
    return names[0] if names else None


def diff_schemas(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """List every change from ``old`` to ``new``, breaking first, then dangerous, then safe."""
    changes = []
    for change in find_schema_changes(old, new):
        if isinstance(change.type, BreakingChangeType):
            severity = ChangeSeverity.BREAKING
        elif isinstance(change.type, DangerousChangeType):
            severity = ChangeSeverity.DANGEROUS
        else:
            severity = ChangeSeverity.SAFE
        changes.append(
            SchemaChange(
                severity=severity,
                kind=change.type.name,
                message=change.description,
                coordinate=_coordinate(change.description),
                requires=_requirements(change.type, change.description) if severity is not ChangeSeverity.SAFE else (),
            )
        )
    order = {ChangeSeverity.BREAKING: 0, ChangeSeverity.DANGEROUS: 1, ChangeSeverity.SAFE: 2}
    return sorted(changes, key=lambda change: order[change.severity])
