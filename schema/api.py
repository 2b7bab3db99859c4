"""The API schema of a supergraph: what clients can query, without the federation machinery.

A supergraph SDL carries the ``join`` and ``link`` specifications (types such as ``join__Graph``,
directives such as ``@join__field``) and may mark elements ``@inaccessible``. Clients never see
any of that. The router serves the API schema, so every diff and operation check runs on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    Node,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    Source,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    parse,
    validate_schema,
)

__all__ = ["ApiSchemaError", "api_schema_from_supergraph", "linked_spec_names"]

# Directives that the API schema keeps: they mean something to clients (GraphQL spec, September 2025 draft).
_API_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})

# `https://specs.apollo.dev/join/v0.5` links the spec named `join`; the name is the path segment
# before the version.
_SPEC_URL = re.compile(r"/(?P<name>[_A-Za-z][_0-9A-Za-z-]*)/v\d+\.\d+/?$")


class ApiSchemaError(ValueError):
    """A supergraph or subgraph SDL could not be turned into an API schema."""


def linked_spec_names(document: DocumentNode) -> set[str]:
    """Return the local names of the specifications that the schema's ``@link`` directives import.

    A spec linked with ``as:`` is known under that name. ``link`` itself is always included, since
    the supergraph uses it to declare the others.
    """
    names = {"link"}
    for definition in document.definitions:
        if not isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode)):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            arguments = {argument.name.value: getattr(argument.value, "value", None) for argument in directive.arguments}
            if isinstance(arguments.get("as"), str):
                names.add(arguments["as"])
            elif isinstance(arguments.get("url"), str):
                match = _SPEC_URL.search(arguments["url"])
                if match:
                    names.add(match.group("name"))
    return names


def _is_machinery(name: str, specs: set[str]) -> bool:
    return name in specs or any(name.startswith(f"{spec}__") for spec in specs)


def _is_inaccessible(node: Node, specs: set[str]) -> bool:
    if "inaccessible" not in specs:
        return False
    return any(directive.name.value == "inaccessible" for directive in getattr(node, "directives", None) or ())


def _api_directives(node: Node) -> tuple:
    return tuple(d for d in getattr(node, "directives", None) or () if d.name.value in _API_DIRECTIVES)


def _strip_members(nodes: Iterable[Node] | None, specs: set[str]) -> tuple:
    """Drop inaccessible fields, arguments and enum values, and remove machinery directives from the rest."""
    kept = []
    for node in nodes or ():
        if _is_inaccessible(node, specs):
            continue
        changes: dict[str, object] = {"directives": _api_directives(node)}
        if getattr(node, "arguments", None) is not None:
            changes["arguments"] = _strip_members(node.arguments, specs)
        kept.append(node.__class__(**{**_node_fields(node), **changes}))
    return tuple(kept)


def _node_fields(node: Node) -> dict[str, object]:
    return {key: getattr(node, key) for key in node.keys}


def _strip_type(node: TypeDefinitionNode | TypeExtensionNode, specs: set[str], hidden_types: set[str]) -> Node:
    changes: dict[str, object] = {"directives": _api_directives(node)}
    if getattr(node, "fields", None) is not None:
        changes["fields"] = _strip_members(node.fields, specs)
    if getattr(node, "values", None) is not None:
        changes["values"] = _strip_members(node.values, specs)
    if getattr(node, "interfaces", None) is not None:
        changes["interfaces"] = tuple(i for i in node.interfaces if i.name.value not in hidden_types)
    if getattr(node, "types", None) is not None:
        changes["types"] = tuple(t for t in node.types if t.name.value not in hidden_types)
    return node.__class__(**{**_node_fields(node), **changes})


def _strip_schema_definition(node: SchemaDefinitionNode) -> SchemaDefinitionNode:
    return SchemaDefinitionNode(
        description=node.description,
        directives=(),
        operation_types=node.operation_types,
        loc=node.loc,
    )


def api_schema_from_supergraph(supergraph_sdl: str, source_name: str = "supergraph") -> GraphQLSchema:
    """Build the API schema that a router serving ``supergraph_sdl`` exposes to clients.

    Removes the linked specifications' types and directives (``join__*``, ``link__*``, ``@link``,
    ``@inaccessible`` and any other linked spec), every element marked ``@inaccessible``, and every
    applied directive except ``@deprecated``, ``@specifiedBy`` and ``@oneOf``.
    """
    try:
        document = parse(Source(supergraph_sdl, source_name))
    except GraphQLError as error:
        raise ApiSchemaError(f"invalid supergraph SDL in {source_name}: {error.message}") from error

    specs = linked_spec_names(document)
    hidden_types = {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, TypeDefinitionNode)
        and (_is_machinery(definition.name.value, specs) or _is_inaccessible(definition, specs))
    }

    definitions: list[Node] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            definitions.append(_strip_schema_definition(definition))
        elif isinstance(definition, SchemaExtensionNode):
            continue
        elif isinstance(definition, DirectiveDefinitionNode):
            if not _is_machinery(definition.name.value, specs):
                definitions.append(definition)
        elif isinstance(definition, (TypeDefinitionNode, TypeExtensionNode)):
            if definition.name.value not in hidden_types:
                definitions.append(_strip_type(definition, specs, hidden_types))
        else:
            definitions.append(definition)
    return _build(DocumentNode(definitions=tuple(definitions)), source_name)


def _build(document: DocumentNode, source_name: str) -> GraphQLSchema:
    try:
        schema = build_ast_schema(document)
    except (GraphQLError, TypeError) as error:
        raise ApiSchemaError(f"could not build the API schema of {source_name}: {error}") from error
    _reject_dangling_types(schema, source_name)
    return schema


def _reject_dangling_types(schema: GraphQLSchema, source_name: str) -> None:
    errors = validate_schema(schema)
    if errors:
        details = "; ".join(error.message for error in errors[:5])
        raise ApiSchemaError(f"the API schema of {source_name} is invalid: {details}")

