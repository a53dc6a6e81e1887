"""The other issues' domain functions, looked up by name so a page still renders (and
says exactly what is missing) while one of them is not installed yet."""
from __future__ import annotations

import importlib


def optional(dotted: str):
    """The function at ``dotted`` (module.name), or None if that module or name is absent."""
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise
    except AttributeError:
        return None
