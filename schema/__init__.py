"""Supergraph composition for the Labs64.IO subgraphs."""

from schema.composition import (
    COMPOSITION_DIR,
    CompositionError,
    CompositionFailed,
    CompositionHint,
    CompositionResult,
    CompositionToolError,
    SubgraphSource,
    collect_subgraphs,
    compose,
    ensure_composition_packages,
    load_subgraph_sdl,
    write_supergraph,
    write_text_atomic,
)

__all__ = [
    "COMPOSITION_DIR",
    "CompositionError",
    "CompositionFailed",
    "CompositionHint",
    "CompositionResult",
    "CompositionToolError",
    "SubgraphSource",
    "collect_subgraphs",
    "compose",
    "ensure_composition_packages",
    "load_subgraph_sdl",
    "write_supergraph",
    "write_text_atomic",
]
