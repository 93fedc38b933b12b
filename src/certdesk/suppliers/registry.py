"""Suppliers by key, loaded from ``settings.CERTDESK_SUPPLIERS`` (dotted paths), cached.

The cache is dropped when the setting changes, so ``override_settings`` works in tests.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from certdesk.suppliers.base import Supplier


@functools.cache
def supplier_get(key: str) -> Supplier:
    """The supplier registered under ``key``. Raises ``KeyError`` for an unknown key."""
    path = settings.CERTDESK_SUPPLIERS[key]
    supplier = import_string(path)()
    if not isinstance(supplier, Supplier):
        raise TypeError(f"{path} does not implement the Supplier protocol")
    return supplier


def supplier_keys() -> list[str]:
    return list(settings.CERTDESK_SUPPLIERS)


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CERTDESK_SUPPLIERS", "CA_DIR", "CA_BASE_URL", "SECRET_KEY"}:
        supplier_get.cache_clear()
        from certdesk.suppliers import builtin

        builtin.builtin_ca.cache_clear()
