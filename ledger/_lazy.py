"""Defer heavy imports the CLI never uses on its paths.

Importing web3 pulls eth_account → eth_keyfile, which imports py_ecc's BLS12-381 (for
EIP-2335 BLS keystores, which liandai does not use), and aiohttp (for async providers,
which liandai does not use); py-evm's Prague VM imports the BLS12-381 precompiles (which
liandai's contracts never call). Together they are about half of a transaction's wall time
from a cold start. `install()` puts stand-ins for those modules in `sys.modules`: any
attribute of a stand-in is a proxy that imports the real module the moment it is used (called,
indexed or looked into), so nothing breaks if a path does need them — it only pays then.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# BLS12-381's group order, the one constant eth_keyfile computes with at import time.
BLS12_381_CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001

_DEFERRED = ("py_ecc.bls", "py_ecc.bls12_381", "eth.precompiles.bls12_381")
_CONSTANTS: dict[str, dict[str, Any]] = {"py_ecc.bls12_381": {"curve_order": BLS12_381_CURVE_ORDER}}


def _load(name: str) -> types.ModuleType:
    # The deferred modules import one another (py-evm's precompiles use py_ecc.bls), so the
    # first real use retires every stand-in before importing.
    for module in [m for m, v in sys.modules.items() if isinstance(v, _StandIn)]:
        del sys.modules[module]
    return importlib.import_module(name)


class _Deferred:
    """One attribute of a deferred module; the real one is fetched on first real use."""

    def __init__(self, module: str, attr: str) -> None:
        self._module = module
        self._attr = attr

    def _real(self) -> Any:
        return getattr(_load(self._module), self._attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._real()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._real()[key]


class _StandIn(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = _CONSTANTS.get(self.__name__, {}).get(attr)
        return value if value is not None else _Deferred(self.__name__, attr)


def install() -> None:
    """Put the stand-ins in place, unless a real module was already imported."""
    for name in _DEFERRED:
        if name not in sys.modules:
            module = _StandIn(name)
            module.__path__ = []  # a package, so `from X.sub import y` finds stand-ins too
            sys.modules[name] = module
