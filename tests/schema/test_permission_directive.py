"""The modules' @requiresPermission directive survives composition, so the supergraph documents each guarded field."""

from __future__ import annotations

import re
from pathlib import Path

from labs64.settings import PlatformSettings
from schema.composition import collect_subgraphs, compose


def test_supergraph_keeps_required_permissions(tmp_path: Path) -> None:
    supergraph = compose(collect_subgraphs(PlatformSettings(data_dir=tmp_path))).require_supergraph_sdl()

    assert "directive @requiresPermission(name: String!) on FIELD_DEFINITION" in supergraph
    assert re.search(r'invoices\(.*\): InvoiceConnection .*@requiresPermission\(name: "billing:read"\)', supergraph)
    assert re.search(r'createExperiment\(.*@requiresPermission\(name: "experiments:write"\)', supergraph)
    assert re.search(r'createUser\(.*@requiresPermission\(name: "admin"\)', supergraph)
