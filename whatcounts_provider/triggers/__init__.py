"""Triggers of the provider (Airflow 3): :mod:`whatcounts_provider.triggers.queue`."""
