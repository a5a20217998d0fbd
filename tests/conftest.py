"""Test set-up shared by every test file.

Prefect state is isolated in a temporary home created before Prefect is imported. The Prefect
test harness (a real local API server) is started once, and only by tests that ask for it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_home = tempfile.mkdtemp(prefix="pw-prefect-")
os.environ["PREFECT_HOME"] = _home
os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = os.path.join(_home, "storage")
for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_key, _value)

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_f3189f94bcb30073.txt"


@pytest.fixture(scope="session")
def prefect_api() -> str:
    """A running Prefect API for real flow runs; yields its URL (for CLI subprocesses too)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    no_heartbeat = temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    if os.environ.get("PREFECT_API_URL"):
        with no_heartbeat:
            yield os.environ["PREFECT_API_URL"]
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90), no_heartbeat:
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def seed_path() -> Path:
    if not SEED.is_file():
        pytest.skip("the seed article (../shared/seeds) is not available")
    return SEED
