"""The edge Worker: its local configuration and the persisted operation manifest."""

from deploy.edge.config import EDGE_DIR, EDGE_ENVIRONMENT, EdgeConfig, edge_command, write_bindings
from deploy.edge.manifest import ManifestError, PersistedOperation, load_operations, write_manifest

__all__ = [
    "EDGE_DIR",
    "EDGE_ENVIRONMENT",
    "EdgeConfig",
    "ManifestError",
    "PersistedOperation",
    "edge_command",
    "load_operations",
    "write_bindings",
    "write_manifest",
]
