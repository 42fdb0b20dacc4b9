"""Links the Android demo's manifest and resources with aapt2 against the Android framework.

Without the Android SDK the app cannot be compiled here, but its manifest and resources can be
checked the way the build checks them: `aapt2 compile` + `aapt2 link` against Debian's
android-framework-res (the framework's `framework-res.apk`, Android 10 / API 29), which resolves
every `@android:` reference (theme, layouts, attributes). The generated `R.java` must then define
every `R.*` the app's Java code uses.
"""

import glob
import os
import re
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "android_demo", "app")
MAIN = os.path.join(APP, "src", "main")
JAVA = os.path.join(MAIN, "java")
PACKAGE = "org.tfdistill.demo"
FRAMEWORK_RES = "/usr/share/android-framework-res/framework-res.apk"
MANIFEST_OPEN = '<manifest xmlns:android="http://schemas.android.com/apk/res/android">'


def _aapt2():
    aapt2 = shutil.which("aapt2")
    assert aapt2, "aapt2 is missing: run `make android-deps` (Debian package aapt)."
    assert os.path.isfile(FRAMEWORK_RES), (
        f"{FRAMEWORK_RES} is missing: run `make android-deps` (Debian android-framework-res).")
    return aapt2


def _link(tmp_path, manifest_text):
    """Compiles res/ and links it with `manifest_text`; returns (result, R.java text or None)."""
    aapt2 = _aapt2()
    compiled = tmp_path / "res.zip"
    subprocess.run([aapt2, "compile", "--dir", os.path.join(MAIN, "res"), "-o", str(compiled)],
                   check=True, capture_output=True, text=True, timeout=60)
    # Gradle's `namespace` becomes the manifest package when AGP merges the manifest; do the same.
    assert MANIFEST_OPEN in manifest_text
    manifest = tmp_path / "AndroidManifest.xml"
    manifest.write_text(manifest_text.replace(
        MANIFEST_OPEN, MANIFEST_OPEN[:-1] + f' package="{PACKAGE}">'), encoding="utf-8")
    gen = tmp_path / "gen"
    result = subprocess.run(
        [aapt2, "link", "-o", str(tmp_path / "app.apk"), "-I", FRAMEWORK_RES,
         "--manifest", str(manifest), "--min-sdk-version", "24", "--target-sdk-version", "34",
         "--version-code", "1", "--version-name", "0.1.0", "--java", str(gen), str(compiled)],
        capture_output=True, text=True, timeout=60)
    r_java = glob.glob(str(gen / "**" / "R.java"), recursive=True)
    return result, (open(r_java[0], encoding="utf-8").read() if r_java else None)


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_manifest_and_resources_link_against_the_framework(tmp_path):
    result, r_java = _link(tmp_path, _read(os.path.join(MAIN, "AndroidManifest.xml")))
    assert result.returncode == 0, f"aapt2 link failed:\n{result.stderr}"
    assert r_java is not None
    defined = set(re.findall(r"public static final class (\w+)|public static final int (\w+)",
                             r_java))
    classes = {c for c, _ in defined if c}
    fields = {f for _, f in defined if f}
    used = set()
    for path in glob.glob(os.path.join(JAVA, "**", "*.java"), recursive=True):
        used |= set(re.findall(r"(?<![\w.])R\.(\w+)\.(\w+)", _read(path)))
    assert used, "the app's Java code references no resources; is the R regex still right?"
    missing = sorted(f"R.{kind}.{name}" for kind, name in used
                     if kind not in classes or name not in fields)
    assert not missing, f"Java code uses resources that aapt2 did not generate: {missing}"


def test_link_catches_an_unknown_framework_reference(tmp_path):
    """Negative control: the link really resolves @android: references against the framework."""
    manifest = _read(os.path.join(MAIN, "AndroidManifest.xml")).replace(
        "@android:style/Theme.Material.Light.DarkActionBar", "@android:style/Theme.NoSuchTheme")
    result, _ = _link(tmp_path, manifest)
    assert result.returncode != 0
    assert "Theme.NoSuchTheme" in result.stderr


def test_manifest_points_at_real_classes_and_the_model_stays_uncompressed():
    manifest = _read(os.path.join(MAIN, "AndroidManifest.xml"))
    for activity in re.findall(r'android:name="\.(\w+)"', manifest):
        assert os.path.isfile(os.path.join(JAVA, *PACKAGE.split("."), activity + ".java")), activity
    gradle = _read(os.path.join(APP, "build.gradle"))
    # LiteRtEngine memory-maps model.tflite from the APK, which needs it stored uncompressed.
    assert re.search(r"noCompress\s+'tflite'", gradle)
    assert re.search(r"minSdk 24\b", gradle) and re.search(r"compileSdk 34\b", gradle)
    assert "com.google.ai.edge.litert:litert:" in gradle

