#!/usr/bin/env bash
# Compiles the core (as Java 8, the language level the Android app builds it with) and its JUnit 5
# tests into a temporary folder and runs them with the JUnit console launcher.
#
# Needs: a JDK (javac, java) and Debian's junit5 (`make android-deps` installs it). The tokenizer
# parity test needs the teacher's vocab.txt: set TFDISTILL_VOCAB, or the script asks the repo's
# venv (PYTHON, default .venv/bin/python) where the installed teacher is.
#
# Usage: android_demo/core/run_tests.sh [extra JUnit console launcher options]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
JUNIT_JAR="${JUNIT_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"

fail() {
  echo "run_tests.sh: $*" >&2
  exit 2
}

command -v javac >/dev/null || fail "javac not found: install a JDK (e.g. apt-get install openjdk-17-jdk-headless)."
command -v java >/dev/null || fail "java not found: install a JDK (e.g. apt-get install openjdk-17-jdk-headless)."
[[ -f "$JUNIT_JAR" ]] || fail "JUnit console launcher not found at $JUNIT_JAR: run 'make android-deps' (Debian package junit5) or set JUNIT_JAR."

VOCAB="${TFDISTILL_VOCAB:-}"
if [[ -z "$VOCAB" ]]; then
  [[ -x "$PYTHON" ]] || fail "TFDISTILL_VOCAB is not set and $PYTHON does not exist: run 'make setup' or set TFDISTILL_VOCAB to the teacher's vocab.txt."
  VOCAB="$("$PYTHON" -c 'import os, tfdistill; print(os.path.join(tfdistill.default_teacher_path(), "vocab.txt"))')" \
    || fail "could not locate the teacher's vocab.txt through $PYTHON; set TFDISTILL_VOCAB."
fi
[[ -f "$VOCAB" ]] || fail "vocab.txt not found at $VOCAB."

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/tfdistill-core.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

mapfile -t MAIN_SOURCES < <(find "$HERE/src/main/java" -name '*.java' | sort)
mapfile -t TEST_SOURCES < <(find "$HERE/src/test/java" -name '*.java' | sort)

# --release 8 checks the Java 8 API as well as the language, so nothing newer than Android's
# desugared Java 8 can slip into the core.
javac --release 8 -encoding UTF-8 -Xlint:all -Werror -d "$BUILD/main" "${MAIN_SOURCES[@]}"
javac --release 8 -encoding UTF-8 -Xlint:all,-options -d "$BUILD/test" \
  -cp "$BUILD/main:$JUNIT_JAR" "${TEST_SOURCES[@]}"
cp -R "$HERE/src/test/resources/." "$BUILD/test/"

java -Dtfdistill.vocab="$VOCAB" -jar "$JUNIT_JAR" \
  --class-path "$BUILD/main:$BUILD/test" --scan-class-path --fail-if-no-tests \
  --disable-banner --disable-ansi-colors --details=tree "$@"
