"""Stage manifests: what a stage was run with, so a re-run skips finished stages and a killed
run resumes at the stage it was in."""

import hashlib
import json
import os
import time

from tfdistill.utils import atomic

MANIFEST = "manifest.json"
# The sub-folder of a run's output folder where unfinished training keeps its epoch backups.
BACKUP_FOLDER = "training_backup"


def fingerprint(inputs):
    """Returns a stable hash of a JSON-serialisable description of a stage's inputs."""
    text = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def data_fingerprint(data):
    """Returns a hash of a dataset's content: every split's texts, text pairs and labels, and the
    class names. A changed training file changes it even when its path and size stay the same.

    Args:
        data: `TextClassificationData`.

    Example:
    >>> data_fingerprint(tfdistill.datasets.load("rotten_tomatoes"))  # doctest: +SKIP
    '5c1f0d2e9a7b3c44'
    """
    return fingerprint({"label_names": list(data.label_names),
                        "splits": {name: split.fingerprint() for name, split in data.splits.items()}})


def read_manifest(stage_dir):
    """Returns the stage's manifest dict, or None if the stage never finished.

    Raises:
        ValueError: a manifest exists but is not valid JSON (an interrupted foreign write).
    """
    path = os.path.join(stage_dir, MANIFEST)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError:
        raise ValueError(f"{path} is not valid JSON; delete {stage_dir} or pass --force_stages to redo it.") from None


def is_complete(stage_dir, inputs_hash):
    """True when the stage finished with exactly these inputs."""
    manifest = read_manifest(stage_dir)
    return manifest is not None and manifest.get("inputs_hash") == inputs_hash


def write_manifest(stage_dir, stage, inputs, inputs_hash, seconds, outputs):
    """Marks a stage finished (written last, atomically: its presence means the outputs are whole)."""
    atomic.write_json(os.path.join(stage_dir, MANIFEST), {
        "stage": stage, "inputs": inputs, "inputs_hash": inputs_hash, "seconds": seconds,
        "outputs": outputs, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
