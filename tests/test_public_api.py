"""heron's public surface is exactly the fluent API and a few types."""

from __future__ import annotations

import inspect

import heron


def test_all_is_the_public_surface() -> None:
    public = {name for name in dir(heron) if not name.startswith("_")}
    # Subpackages appear as attributes once anything imports them; they are not API,
    # except ``errors``, which is exported on purpose.
    submodules = {name for name in public if inspect.ismodule(getattr(heron, name))}
    assert public - (submodules - {"errors"}) == set(heron.__all__) - {"__version__"}
