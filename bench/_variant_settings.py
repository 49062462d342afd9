"""Project settings plus the export benchmark's candidate view (see _export_variant.py)."""

from __future__ import annotations

from coalition.settings import *  # noqa: F403

ROOT_URLCONF = "_export_variant"
