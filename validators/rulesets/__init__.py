"""Every rule module, imported so that `validators.engine.REGISTRY` is complete.

Add a module here when it defines rules; the import order does not matter.
"""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")
