import subprocess
import sys

import presswatch


def test_every_public_name_resolves_to_a_callable_or_class():
    for name in presswatch.__all__:
        assert getattr(presswatch, name) is not None, name
        if name != "__version__":
            assert callable(getattr(presswatch, name)), name


def test_importing_the_package_does_not_load_the_heavy_stages():
    code = "import sys, presswatch; print(sorted(m for m in ('sklearn', 'prefect', 'trafilatura') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
