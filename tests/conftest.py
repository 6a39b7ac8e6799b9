"""Shared fixtures: every test gets its own result cache folder (never the user's)."""

import pytest


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CURVELINT_CACHE_DIR", str(tmp_path_factory.mktemp("curvelint-cache")))
