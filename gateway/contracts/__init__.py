"""Regional contract registry: bundles per region and version, and the questions contract rules ask.

    registry = default_registry()                       # the embedded example bundles
    registry.load_text(yaml_text, actor="alice")        # API: check, add, audit (BundleError if refused)
    idx = registry.lookup("0513", date(2025, 3, 1))     # the bundle in effect for Gouda on that date
"""

from gateway.contracts.loader import LoadedBundle, parse_bundle
from gateway.contracts.registry import BUNDLES_DIR, DEFAULT_REGION, ContractRegistry, default_registry
from gateway.contracts.yamlsource import BundleError, Problem

__all__ = [
    "BUNDLES_DIR",
    "DEFAULT_REGION",
    "BundleError",
    "ContractRegistry",
    "LoadedBundle",
    "Problem",
    "default_registry",
    "parse_bundle",
]
