"""The speed benchmark runs and reports (numbers are quoted in the README, not asserted)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_row_reports_json():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "inpaint.bench", "--row", "pconv-small", "--size", "256", "--repeats", "1"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    row = json.loads(result.stdout)
    assert row["row"] == "pconv-small" and row["ms"] > 0 and row["peak_mb"] > 0 and 5 < row["params_m"] < 10


def test_bench_photo_row_aligns_and_splits_the_time():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "inpaint.bench", "--row", "photo-aligned", "--repeats", "1"]
    row = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout)
    assert row["path"] == "aligned" and row["ms"] > 0 and row["peak_mb"] > 0
    assert set(row["split"]) == {"read", "detect", "frame", "engine", "paste", "output"}


def test_bench_flop_limit_row_counts_and_compares():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "inpaint.bench", "--row", "flop-limit", "--repeats", "2"]
    row = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout)
    assert 6.0 < row["gflop"] < 7.5  # the small network's 256-px edit, as counted by torch
    assert row["gflop_serving"] < row["gflop"]  # the sub-pixel decoder does less work
    assert row["reference_gflops"] > 0 and row["limit_ms"] > 0
    assert row["ratio"] == row["ms"] / row["limit_ms"] and row["ratio_training"] > 0
