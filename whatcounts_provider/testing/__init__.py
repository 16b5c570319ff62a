"""Test helpers for users of this provider: a WhatCounts emulator and its pytest fixtures."""
