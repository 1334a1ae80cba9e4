"""One way to find plug-ins: alert kinds, lint checks and output writers.

A plug-in is a module of its folder (not a private one, not one of the folder's helpers)
that provides the folder's declared interface, a ``typing.Protocol`` over module
attributes: ``kinds.base.KindModule``, ``lint.base.Check``, ``render.writers.Writer``.
Adding one is adding a module; a module in the folder that does not provide the interface
is an error at discovery, never silently skipped. The README's kinds, checks and formats
tables are written from the plug-ins' own text (``workflows/readme.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType


def discover(package: ModuleType, interface: type, helpers: Iterable[str] = ()
             ) -> list[ModuleType]:
    """The plug-in modules of ``package`` in name order; ``TypeError`` for a module that
    does not provide ``interface`` (a runtime-checkable Protocol)."""
    skip = set(helpers)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in skip:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if not isinstance(module, interface):
            raise TypeError(f"{module.__name__} is a module of {package.__name__} but does not "
                            f"provide {interface.__name__} (or list it among the helpers)")
        found.append(module)
    return found
