"""The rule modules. `import_modules()` imports them so that `validators.engine.REGISTRY` is
complete; `validators.engine.load()` calls it, so no module needs to be listed anywhere.

In-message rules (levels xslt and condition) live only in the `technical_*` and `conditions_*`
modules: `gateway validate` imports just those, not the cross-message and contract rules (and the
store and contract code they pull in). tests/rules/test_rule_modules.py holds that line.
"""

from __future__ import annotations

import importlib
import pkgutil

IN_MESSAGE_MODULES = ("technical_", "conditions_")


def import_modules(prefixes: tuple[str, ...] | None = None) -> None:
    """Import every rule module, or those whose name starts with one of `prefixes`."""
    for mod in pkgutil.iter_modules(__path__):
        if prefixes is None or mod.name.startswith(prefixes):
            importlib.import_module(f"{__name__}.{mod.name}")
