"""What the benches of compact students share: a classifier trimmed to a vocabulary, factorised at
a rank, its accuracy in Keras and as an exported `.tflite` (size, gzip size, LiteRT accuracy), and
the teacher's split written to files for recipe runs with other seeds (`split_files`).

Each function takes a context with `config` (a `RunConfig`: `data.max_length`,
`export.num_representative`), `data` (the task's `Dataset`) and `tokenizer` (the full one).
"""

import gzip
import os
import types


def trimmed_student(student, ctx, size):
    """`(model, tokenizer)` with the vocabulary `size` names (`full` returns them unchanged)."""
    from tfdistill.compress import trim_vocabulary, vocabulary_to_keep

    if size == "full":
        return student, ctx.tokenizer
    split = ctx.data.train
    keep = vocabulary_to_keep(ctx.tokenizer, split.texts, None if size == "used" else int(size),
                              text_pairs=split.text_pairs, max_length=ctx.config.data.max_length)
    return trim_vocabulary(student, ctx.tokenizer, keep)


def accuracies(model, tokenizer, ctx):
    from tfdistill.training import evaluation

    return {short: evaluation.accuracy(model, tokenizer, getattr(ctx.data, split), ctx.config.data.max_length)
            for short, split in (("val", "validation"), ("test", "test"))}


def tflite_row(model, tokenizer, mode, ctx, folder):
    from tfdistill import export

    result = export.export_tflite(model, folder, mode, ctx.config.data.max_length, tokenizer, ctx.data.train,
                                  ctx.data.validation, None, labels=ctx.data.label_names, force=True,
                                  num_representative=ctx.config.export.num_representative)
    evaluated = {short: export.evaluate_tflite(folder, tokenizer, getattr(ctx.data, split),
                                               label_names=ctx.data.label_names).accuracy
                 for short, split in (("val", "validation"), ("test", "test"))}
    with open(os.path.join(folder, "model.tflite"), "rb") as f:
        flatbuffer = f.read()
    return {"agreement": result.card["validation"]["agreement"], "tflite_val": evaluated["val"],
            "tflite_test": evaluated["test"], "tflite_mb": len(flatbuffer) / 1e6,
            "gzip_mb": len(gzip.compress(flatbuffer)) / 1e6}


def factorised(model, rank):
    """`(model, energy kept)` with the word table at `rank` (`full`: unchanged)."""
    from tfdistill.models.bert.factorize import energy_kept, factorize_embeddings

    if rank == "full":
        return model, 1.0
    table = model.get_layer("word_embeddings").get_weights()[0]
    return factorize_embeddings(model, int(rank)), energy_kept(table, int(rank))


def task_context(model_dir, dataset, seed, max_length):
    """The context of a classifier folder's task: `dataset` split by `seed` (the recipes' split)."""
    import tfdistill
    from tfdistill.config import RunConfig

    config = RunConfig().replace(**{"data.max_length": max_length, "seed": seed})
    data = tfdistill.datasets.load(dataset, seed=seed)
    return types.SimpleNamespace(config=config, data=data, tokenizer=tfdistill.Tokenizer.from_pretrained(model_dir))


def split_files(runs_dir, dataset, split_seed):
    """`--<split>_file=...` flags of `dataset`'s split by `split_seed`, written once as CSV files
    under `runs_dir`: a recipe's `--seed` also draws the split, so runs with other seeds read
    these to keep the teacher's training examples out of their test set."""
    import csv

    import tfdistill

    folder = os.path.join(runs_dir, f"split_{dataset}_{split_seed}")
    data = tfdistill.datasets.load(dataset, seed=split_seed)
    os.makedirs(folder, exist_ok=True)
    for name, split in data.splits.items():
        path = os.path.join(folder, f"{name}.csv")
        if not os.path.exists(path):
            with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["text", "label"])
                writer.writerows((text, data.label_names[label]) for text, label in zip(split.texts, split.labels))
            os.replace(path + ".tmp", path)
    return [f"--{name}_file={os.path.join(folder, name + '.csv')}" for name in data.splits]
