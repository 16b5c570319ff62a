"""Apache Airflow provider for WhatCounts SMS opt-outs."""

from __future__ import annotations

__version__ = "0.1.0"
