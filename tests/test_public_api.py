"""heron's public surface is exactly the fluent API and a few types."""

from __future__ import annotations

import heron


def test_all_is_the_public_surface() -> None:
    public = {name for name in dir(heron) if not name.startswith("_")}
    # Submodules appear as attributes once imported; they are not API.
    submodules = {"artifacts", "cli", "client", "entities", "fluent", "search", "services", "store"}
    assert public - submodules == set(heron.__all__) - {"__version__"}
