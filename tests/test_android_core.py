"""Runs the Android demo's Java core tests (JUnit 5) and checks that their fixtures are current.

The Java core (android_demo/core) holds everything of the app that does not need Android: the
BERT tokenizer, model card and labels, softmax, latency statistics and the benchmark runner. Its
tokenizer must give the Python tokenizer's ids; the fixture that pins this, and the Unicode tables
the Java tokenizer uses, are generated from the Python side, so these tests also regenerate them
and demand byte-identical files (a tokenizer change on either side then fails here).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANDROID = os.path.join(ROOT, "android_demo")
RUN_TESTS = os.path.join(ANDROID, "core", "run_tests.sh")
RESOURCES = os.path.join(ANDROID, "core", "src", "test", "resources")
UNICODE_TABLES = os.path.join(ANDROID, "core", "src", "main", "java", "org", "tfdistill", "core",
                              "UnicodeTables.java")
JUNIT_JAR = "/usr/share/java/junit-platform-console-standalone.jar"
MIN_JUNIT_TESTS = 40


def _run_tool(script, *flags):
    return subprocess.run([sys.executable, os.path.join(ANDROID, "tools", script), *flags],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _assert_same_file(generated, committed, regenerate):
    with open(generated, "rb") as f:
        new = f.read()
    with open(committed, "rb") as f:
        old = f.read()
    assert new == old, (
        f"{os.path.relpath(committed, ROOT)} is stale: the Python side now produces something "
        f"else. Regenerate it with `{regenerate}`, re-run the Java tests and commit both."
    )


@pytest.mark.integration
def test_java_core_passes_its_junit_tests():
    if shutil.which("java") is None or shutil.which("javac") is None:
        pytest.skip("No JDK (java/javac) on this machine; the Java core cannot be compiled here.")
    assert os.path.isfile(JUNIT_JAR), (
        f"{JUNIT_JAR} is missing: run `make android-deps` (it installs Debian's junit5)."
    )
    import tfdistill

    env = dict(os.environ,
               TFDISTILL_VOCAB=os.path.join(tfdistill.default_teacher_path(), "vocab.txt"),
               PYTHON=sys.executable)
    result = subprocess.run(["bash", RUN_TESTS], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"JUnit run failed (exit {result.returncode}):\n{output[-6000:]}"
    counts = dict((key, int(value)) for value, key in
                  re.findall(r"\[\s*(\d+) tests (successful|failed|found)\s*\]", output))
    assert counts.get("failed") == 0 and counts.get("successful", 0) >= MIN_JUNIT_TESTS, output


@pytest.mark.integration
def test_tokenizer_and_stats_fixtures_are_current(tmp_path):
    result = _run_tool("make_tokenizer_fixture.py", f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    for name in ("tokenizer_fixture.jsonl", "latency_stats_fixture.json", "cased_tokenizer_fixture.jsonl",
                 "trimmed_tokenizer_fixture.jsonl"):
        _assert_same_file(tmp_path / name, os.path.join(RESOURCES, name),
                          ".venv/bin/python android_demo/tools/make_tokenizer_fixture.py")


def test_unicode_tables_are_current(tmp_path):
    generated = tmp_path / "UnicodeTables.java"
    result = _run_tool("make_unicode_tables.py", f"--output={generated}")
    assert result.returncode == 0, result.stderr
    _assert_same_file(generated, UNICODE_TABLES,
                      ".venv/bin/python android_demo/tools/make_unicode_tables.py")
