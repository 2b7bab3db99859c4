"""Client operations: parse them from ``.graphql`` files, list the schema coordinates they use, validate them.

A schema coordinate names one element of a schema: ``User`` (a type), ``User.email`` (a field or an
input field), ``Query.users(first:)`` (an argument), ``ExperimentStatus.DRAFT`` (an enum value) and
``@include`` (a directive). An operation uses a coordinate when running it can touch that element,
so a change to the element can break the operation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    Source,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    type_from_ast,
    validate,
    visit,
)

__all__ = [
    "OperationDocument",
    "OperationParseError",
    "OperationSet",
    "ValidationProblem",
    "operation_coordinates",
    "parse_operation_file",
    "parse_operations",
    "validate_operation",
    "operation_id",
]


class OperationParseError(ValueError):
    """A file of client operations is not valid GraphQL, or an operation in it has no name."""


@dataclass(frozen=True)
class OperationDocument:
    """One named client operation, with the fragments it spreads, as a client sends it.

    ``body`` is the operation and its fragments printed by graphql-core, so the same operation
    written with different whitespace gets the same ``id`` (the SHA-256 of ``body``).
    """

    name: str
    operation_type: str
    body: str
    #: Where the operation comes from: ``persisted`` (the manifest) or ``recorded`` (the usage store).
    origin: str = "persisted"
    file: str | None = None
    line: int | None = None
    #: Coordinates recorded with the operation, used when its body cannot be parsed any more.
    recorded_coordinates: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return operation_id(self.body)

    @property
    def location(self) -> str:
        if self.file is None:
            return f"{self.origin} operation {self.id[:12]}"
        return f"{self.file}:{self.line}" if self.line else self.file

    def document(self) -> DocumentNode:
        return parse(Source(self.body, self.name))


@dataclass(frozen=True)
class ValidationProblem:
    """A validation error of one operation against a schema, at a line of the operation's file."""

    message: str
    line: int | None = None


def operation_id(body: str) -> str:
    """Return the persisted-operation id of ``body``: its SHA-256 as 64 hexadecimal digits."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _spread_fragments(node: OperationDefinitionNode | FragmentDefinitionNode) -> Iterator[str]:
    stack = [node.selection_set]
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            else:
                stack.append(getattr(selection, "selection_set", None))


def _fragments_used(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> list[FragmentDefinitionNode]:
    used: dict[str, FragmentDefinitionNode] = {}
    pending = list(_spread_fragments(operation))
    while pending:
        name = pending.pop()
        if name in used or name not in fragments:
            # An unknown fragment is left for validation to report against the schema.
            continue
        used[name] = fragments[name]
        pending.extend(_spread_fragments(fragments[name]))
    return [used[name] for name in sorted(used)]


def parse_operations(text: str, file: str | None = None, origin: str = "persisted") -> list[OperationDocument]:
    """Split a document into its named operations, each with the fragments it spreads.

    Raises OperationParseError on a syntax error or an anonymous operation, naming the file and line.
    """
    where = file or "<operations>"
    try:
        document = parse(Source(text, where))
    except GraphQLError as error:
        location = error.locations[0].line if error.locations else "?"
        raise OperationParseError(f"{where}:{location}: invalid GraphQL: {error.message}") from error

    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        line = definition.loc.source.get_location(definition.loc.start).line if definition.loc else None
        if definition.name is None:
            raise OperationParseError(
                f"{where}:{line}: anonymous operation; give every client operation a name, "
                "because breaking changes are reported by operation name"
            )
        body = print_ast(DocumentNode(definitions=(definition, *_fragments_used(definition, fragments))))
        operations.append(
            OperationDocument(
                name=definition.name.value,
                operation_type=definition.operation.value,
                body=body,
                origin=origin,
                file=file,
                line=line,
            )
        )
    return operations


def parse_operation_file(path: Path, display_path: str | None = None) -> list[OperationDocument]:
    """Read and split one ``.graphql`` file; ``display_path`` is how reports name the file."""
    return parse_operations(path.read_text(encoding="utf-8"), display_path or str(path))


def _input_coordinates(named: GraphQLNamedType, found: set[str]) -> None:
    """Add an input type and, recursively, every input field reachable from it.

    A variable carries a whole input object at run time, so the operation can use any of its fields.
    """
    if named.name in found:
        return
    found.add(named.name)
    if isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            found.add(f"{named.name}.{field_name}")
            _input_coordinates(get_named_type(input_field.type), found)


class _CoordinateCollector(Visitor):
    """Collect the coordinates an operation uses while TypeInfo tracks the types in scope."""

    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.coordinates: set[str] = set()
        # (parent type, field name) of each field being visited; None where the parent is unknown.
        self.fields: list[tuple[str, str] | None] = []

    def _add_type(self, named: GraphQLNamedType | None) -> None:
        if named is not None:
            _input_coordinates(named, self.coordinates)

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        self._add_type(self.schema.get_root_type(node.operation))
        for definition in node.variable_definitions or ():
            variable_type = type_from_ast(self.schema, definition.type)
            if variable_type is not None:
                self._add_type(get_named_type(variable_type))

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        parent = self.type_info.get_parent_type()
        self.fields.append((parent.name, node.name.value) if parent is not None else None)
        if parent is None:
            return
        self.coordinates.add(parent.name)
        self.coordinates.add(f"{parent.name}.{node.name.value}")
        field_type = self.type_info.get_type()
        if field_type is not None:
            self._add_type(get_named_type(field_type))

    def leave_field(self, *_args: object) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        directive = self.type_info.get_directive()
        if directive is not None:
            self.coordinates.add(f"@{directive.name}({node.name.value}:)")
        elif self.fields and self.fields[-1] is not None:
            parent_name, field_name = self.fields[-1]
            self.coordinates.add(f"{parent_name}.{field_name}({node.name.value}:)")
        argument = self.type_info.get_argument()
        if argument is not None:
            self._add_type(get_named_type(argument.type))

    def enter_object_field(self, node: ObjectFieldNode, *_args: object) -> None:
        input_type = self.type_info.get_parent_input_type()
        if input_type is not None:
            self.coordinates.add(f"{input_type.name}.{node.name.value}")

    def enter_enum_value(self, node: EnumValueNode, *_args: object) -> None:
        enum = self.type_info.get_input_type()
        named = get_named_type(enum) if enum is not None else None
        if isinstance(named, GraphQLEnumType):
            self.coordinates.add(f"{named.name}.{node.value}")

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: object) -> None:
        condition = self.type_info.get_type()
        if condition is not None:
            self._add_type(get_named_type(condition))

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_args: object) -> None:
        self._add_type(self.schema.get_type(node.type_condition.name.value))

    def enter_directive(self, node: DirectiveNode, *_args: object) -> None:
        self.coordinates.add(f"@{node.name.value}")


def operation_coordinates(operation: OperationDocument, schemas: Iterable[GraphQLSchema]) -> frozenset[str]:
    """Return the coordinates ``operation`` uses in any of ``schemas``.

    Passing the schema before and after a change finds both the coordinates that a change removes
    and those that a new operation needs. Coordinates recorded with an operation are included too.
    """
    coordinates: set[str] = set(operation.recorded_coordinates)
    try:
        document = operation.document()
    except GraphQLError:
        return frozenset(coordinates)
    for schema in schemas:
        type_info = TypeInfo(schema)
        collector = _CoordinateCollector(schema, type_info)
        visit(document, TypeInfoVisitor(type_info, collector))
        coordinates |= collector.coordinates
    return frozenset(coordinates)


def validate_operation(operation: OperationDocument, schema: GraphQLSchema) -> list[ValidationProblem]:
    """Validate ``operation`` against ``schema``; each problem carries the line of the operation in its file.

    The validated body is the printed operation, whose line numbers differ from the file's, so
    the operation's first line is the most precise location that is always right.
    """
    try:
        document = operation.document()
    except GraphQLError as error:
        return [ValidationProblem(f"invalid GraphQL: {error.message}", operation.line)]
    return [ValidationProblem(error.message, operation.line) for error in validate(schema, document)]


@dataclass
class OperationSet:
    """Operations by id, so the same operation from the manifest and from usage counts once."""

    operations: dict[str, OperationDocument] = field(default_factory=dict)

    def add(self, operation: OperationDocument) -> None:
        self.operations.setdefault(operation.id, operation)

    def __iter__(self) -> Iterator[OperationDocument]:
        return iter(self.operations.values())

    def __len__(self) -> int:
        return len(self.operations)
