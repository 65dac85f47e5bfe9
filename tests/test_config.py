"""Configuration is read in one place (algrid.config) with one meaning per variable (issue 13)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from algrid.config import Config, ConfigError, available_cpus


def test_cache_off_does_not_move_the_data_cache():
    cfg = Config.from_environ({"ALGRID_CACHE": "0"})
    assert cfg.model_cache is False
    assert cfg.data_cache_dir == Path.home() / ".cache" / "algrid"


def test_old_cache_directory_spelling_still_works(tmp_path):
    cfg = Config.from_environ({"ALGRID_CACHE": str(tmp_path)})
    assert cfg.model_cache is True and cfg.data_cache_dir == tmp_path
    cfg = Config.from_environ({"ALGRID_CACHE": "0", "ALGRID_CACHE_DIR": str(tmp_path)})
    assert cfg.model_cache is False and cfg.data_cache_dir == tmp_path


@pytest.mark.parametrize(
    "name, value",
    [("ALGRID_CACHE_SIZE", "many"), ("ALGRID_FAST_FOREST", "maybe"), ("ALGRID_CACHE_MB", "inf")],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_environ({name: value})


def test_environ_round_trips():
    cfg = Config.from_environ({"ALGRID_CACHE": "0", "ALGRID_PLUGINS": "a, b", "ALGRID_NO_ZYGOTE": "1"})
    assert Config.from_environ(cfg.environ()) == cfg
    assert cfg.plugins == ("a", "b") and cfg.zygote is False


def test_no_environment_variable_is_read_outside_the_config_module():
    root = Path(__file__).resolve().parents[1] / "algrid"
    allowed: set[str] = set()
    reads = re.compile(r"(environ|getenv)\b[^\n]*ALGRID_")
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "config.py" and reads.search(p.read_text())
    ]
    offenders = [o for o in offenders if o not in allowed]
    assert offenders == [], f"ALGRID_* read outside algrid/config.py: {offenders}"


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")
def test_jobs_default_follows_the_cpu_affinity():
    code = "from algrid.config import available_cpus; print(available_cpus())"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    assert available_cpus() == min(len(os.sched_getaffinity(0)), available_cpus())
