"""The retention ladder: which student shape the distill stage ships (`RunConfig.ladder`).

The rungs are student shapes, smallest first. A rung meets the target when its distilled
student's validation accuracy, less `margin_standard_errors` standard errors of it, is at least
`target_retention` times the teacher's (the teacher's is its best epoch's, picked on the same
split, so the bar leans strict): a rung that clears the target by less than the split's noise
would keep it on new data about half the time. The climb starts at
`ladder.start`, steps down while the rung below meets the target and up while the current one
does not, and ships the smallest rung it saw meet it; when none does, the rung with the best
validation accuracy (the smaller on ties), with a note. Climbing from the middle trains 2-3
rungs instead of all of them; it assumes accuracy does not fall as the student grows (true in
expectation, not always within a split's noise), so a rung that is not tried is one its
neighbours decide.

Finished rungs are kept in the stage's backup folder, so a run killed mid-ladder resumes at the
rung it was in (which itself resumes at its last finished epoch).
"""

import json
import os

from tfdistill.utils import atomic


def climb(names, start, evaluate):
    """Finds the smallest rung that meets the target, trying as few rungs as the order allows.

    Args:
        names: the rungs, smallest first.
        start: the rung tried first (None: the smallest).
        evaluate: `name -> dict` with `meets_target` (bool) and `validation_accuracy`; called at
            most once per rung.

    Returns:
        `(chosen name, {name: result} of the rungs tried)`.

    Example:
    >>> accuracy = {"s": 0.70, "m": 0.79, "l": 0.80}
    >>> evaluate = lambda name: {"validation_accuracy": accuracy[name], "meets_target": accuracy[name] >= 0.78}
    >>> chosen, tried = climb(["s", "m", "l"], "m", evaluate)
    >>> chosen, sorted(tried)
    ('m', ['m', 's'])
    >>> climb(["s", "m", "l"], "s", evaluate)[0]
    'm'
    """
    results = {}

    def meets(index):
        if names[index] not in results:
            results[names[index]] = evaluate(names[index])
        return results[names[index]]["meets_target"]

    index = 0 if start is None else names.index(start)
    if meets(index):
        while index > 0 and meets(index - 1):
            index -= 1
        return names[index], results
    while index + 1 < len(names):
        index += 1
        if meets(index):
            return names[index], results
    tried = [name for name in names if name in results]  # smallest first: ties go to the smaller
    return max(tried, key=lambda name: results[name]["validation_accuracy"]), results


def rung_result(name, student, model, teacher_config, validation_accuracy, teacher_accuracy, ladder, examples,
                max_length):
    """The ladder's record of one rung: its shape, size, compute and validation retention.

    Args:
        name: the rung's name.
        student: its `StudentConfig`.
        model: the distilled student (a tfdistill `BertModel`).
        teacher_config: the teacher's `BertConfig`.
        validation_accuracy, teacher_accuracy: on the validation split.
        ladder: `LadderConfig` (the target and the margin).
        examples: the validation split's size.
        max_length: the sequence length the compute is counted at.
    """
    from tfdistill.pipeline.selection import standard_error

    from tfdistill.export.flops import bert_flops
    from tfdistill.training.finetune import count_params

    model_config, (params, non_embedding_params) = model.bert_config, count_params(model)
    error = standard_error(validation_accuracy, examples)
    retention = validation_accuracy / teacher_accuracy if teacher_accuracy else None
    bound = (validation_accuracy - ladder.margin_standard_errors * error) / teacher_accuracy if teacher_accuracy else None
    return {"name": name, "student": student.to_dict(), "layers": model_config.num_layers,
            "heads": model_config.num_heads, "intermediate": model_config.intermediate_size,
            "hidden": model_config.hidden_size, "params": params, "non_embedding_params": non_embedding_params,
            "compute_ratio": bert_flops(model_config, max_length) / bert_flops(teacher_config, max_length),
            "validation_accuracy": validation_accuracy, "standard_error": error, "validation_retention": retention,
            "retention_bound": bound, "meets_target": bound is not None and bound >= ladder.target_retention}


class RungStore:
    """Finished rungs in a folder (`<stage backup>/rungs/<name>/`: the model and its result), so
    a resumed ladder does not train them again. Without a folder it keeps nothing."""

    def __init__(self, folder):
        self.folder = folder and os.path.join(folder, "rungs")

    def load(self, name):
        """`(model, result)` of a finished rung, or None."""
        path = self.folder and os.path.join(self.folder, name, "result.json")
        if not path or not os.path.exists(path):
            return None
        import tfdistill

        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        return tfdistill.load_pretrained(os.path.join(self.folder, name, "model")), result

    def save(self, name, model, result, tokenizer):
        """Keeps a finished rung (written whole or not at all)."""
        if not self.folder:
            return
        from tfdistill.models.bert.checkpoint import write_pretrained_files

        with atomic.atomic_dir(os.path.join(self.folder, name), kind="ladder_rung") as folder:
            os.makedirs(os.path.join(folder, "model"))
            write_pretrained_files(model, os.path.join(folder, "model"), tokenizer)
            atomic.write_json(os.path.join(folder, "result.json"), result)

    def rung_backup(self, name):
        """The training backup folder of a rung's distillation (None without a folder)."""
        return self.folder and os.path.join(self.folder, f"{name}-training")


def summary(ladder, chosen, tried, teacher_accuracy):
    """The distill stage's `ladder` output: the target, the rungs tried (smallest first), the
    chosen one, and a note when none met the target."""
    rungs = [tried[name] for name in ladder.students if name in tried]
    met = tried[chosen]["meets_target"]
    note = None if met else (
        f"No rung tried reached {ladder.target_retention:.0%} of the teacher's validation accuracy "
        f"({teacher_accuracy:.4f}) by a margin of {ladder.margin_standard_errors:g} standard error(s); shipping "
        f"{chosen}, the best on validation. Add a larger shape to "
        "ladder.students, or train longer (distill.epochs), to meet it.")
    return {"target_retention": ladder.target_retention, "margin_standard_errors": ladder.margin_standard_errors,
            "teacher_validation_accuracy": teacher_accuracy,
            "start": ladder.start, "chosen": chosen, "met_target": met, "rungs": rungs, "note": note}


def markdown(ladder):
    """The report's ladder table (lines), from the distill stage's `ladder` output."""
    start = ladder["start"] or ladder["rungs"][0]["name"]
    margin = ladder.get("margin_standard_errors", 0)
    lines = [f"Student ladder (target: {ladder['target_retention']:.0%} of the teacher's validation accuracy, "
             f"{ladder['teacher_validation_accuracy']:.4f}, cleared by {margin:g} standard error(s) of the rung's "
             f"own; started at {start}; chosen: **{ladder['chosen']}**):", "",
             "| shape | blocks x heads x FFN | non-embedding params | FLOPs vs teacher | validation accuracy "
             "| validation retention | retention less the margin | meets target |", "|---|---|---|---|---|---|---|---|"]
    for rung in ladder["rungs"]:
        params = rung.get("non_embedding_params")  # runs of the first ladder code did not record it
        lines.append(f"| {rung['name']} | {rung['layers']} x {rung['heads']} x {rung['intermediate']} "
                     f"| {'-' if params is None else f'{params / 1e6:.2f}M'} | {rung['compute_ratio']:.2f}x | {rung['validation_accuracy']:.4f} "
                     f"| {format_ratio(rung['validation_retention'])} | {format_ratio(rung.get('retention_bound'))} "
                     f"| {'yes' if rung['meets_target'] else 'no'} |")
    if ladder.get("note"):
        lines += ["", ladder["note"]]
    return lines


def format_ratio(value):
    """A ratio to 3 decimals, or `-` when there is none."""
    return "-" if value is None else f"{value:.3f}"
