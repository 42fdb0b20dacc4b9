"""The retention ladder (`tfdistill.pipeline.ladder`, `RunConfig.ladder`): the climb's order and
choice on given results, and the distill stage on a tiny random teacher: it trains the rungs the
climb asks for, ships the chosen shape, records the ladder for the report, and a run stopped
mid-ladder resumes without training its finished rungs again."""

import json

import numpy as np
import pytest

from tfdistill.pipeline import ladder


def _results(accuracies, target):
    """An `evaluate` for `ladder.climb` from fixed accuracies; records the rungs it is asked for."""
    asked = []

    def evaluate(name):
        asked.append(name)
        return {"validation_accuracy": accuracies[name], "meets_target": accuracies[name] >= target}

    return evaluate, asked


@pytest.mark.parametrize("accuracies, start, chosen, asked", [
    # Meets at the start: steps down until the rung below misses.
    ({"xs": 0.70, "s": 0.79, "m": 0.80, "l": 0.81}, "m", "s", ["m", "s", "xs"]),
    # Misses at the start: steps up to the first that meets.
    ({"xs": 0.70, "s": 0.72, "m": 0.75, "l": 0.81}, "m", "l", ["m", "l"]),
    # From the smallest (start None): up to the first that meets; nothing above it is trained.
    ({"xs": 0.70, "s": 0.79, "m": 0.80, "l": 0.81}, None, "s", ["xs", "s"]),
    # None meets: the best on validation, the smaller on ties.
    ({"xs": 0.70, "s": 0.74, "m": 0.74, "l": 0.73}, "s", "s", ["s", "m", "l"]),
    # Every rung meets from the top: the smallest.
    ({"xs": 0.90, "s": 0.90, "m": 0.90, "l": 0.90}, "l", "xs", ["l", "m", "s", "xs"]),
])
def test_climb_trains_only_the_rungs_it_needs_and_ships_the_smallest_that_meets(accuracies, start, chosen, asked):
    evaluate, called = _results(accuracies, target=0.78)
    got, tried = ladder.climb(["xs", "s", "m", "l"], start, evaluate)
    assert (got, called, sorted(tried)) == (chosen, asked, sorted(asked))


def test_summary_notes_a_target_no_rung_met():
    from tfdistill.config import RunConfig

    config = RunConfig().ladder
    tried = {"4x6x384": {"name": "4x6x384", "meets_target": False, "validation_accuracy": 0.7},
             "5x8x768": {"name": "5x8x768", "meets_target": False, "validation_accuracy": 0.72}}
    summary = ladder.summary(config, "5x8x768", tried, teacher_accuracy=0.8)
    assert [rung["name"] for rung in summary["rungs"]] == ["4x6x384", "5x8x768"]  # smallest first
    assert not summary["met_target"] and "No rung tried reached 98%" in summary["note"]
    assert "shipping 5x8x768, the best on validation" in summary["note"]


# ---------------------------------------------------------------------------------------------
# The distill stage on a tiny teacher

WORDS = {"account": "password login email reset profile", "billing": "invoice refund charge card payment",
         "shipping": "parcel courier late box address"}
RUNGS = ("1x1x8", "1x2x16", "2x2x32")


def _split(rng, rows):
    from tfdistill.data.datasets import Split

    labels = np.arange(rows) % 3
    texts = [" ".join(rng.choice(WORDS[list(WORDS)[label]].split(), 4)) for label in labels]
    return Split(texts, labels)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, teacher_path):
    """A random 2-block teacher folder and 3-class data."""
    import tfdistill
    from tfdistill.data.datasets import TextClassificationData

    folder = tmp_path_factory.mktemp("ladder")
    tokenizer = tfdistill.Tokenizer.from_pretrained(teacher_path)
    config = tfdistill.BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2, num_heads=4,
                                  intermediate_size=64, num_labels=3, label_names=tuple(WORDS))
    tfdistill.save_pretrained(tfdistill.build_bert(config), str(folder / "teacher"), tokenizer=tokenizer)
    rng = np.random.default_rng(0)
    data = TextClassificationData("tickets", list(WORDS), _split(rng, 48), _split(rng, 24), _split(rng, 24))
    return folder, tokenizer, data


def _run(tiny, output_dir, monkeypatch):
    """The teacher and distill stages of a run whose ladder starts at its top rung with a target
    every rung meets, so the climb walks down through all three (the later stages do nothing)."""
    from tfdistill.config import RunConfig
    from tfdistill.pipeline import runner
    from tfdistill.pipeline.context import PipelineContext

    folder, tokenizer, data = tiny
    for stage in ("export", "evaluate", "benchmark"):
        monkeypatch.setitem(runner.STAGES, stage, lambda ctx, stage_folder: {})
    config = RunConfig().replace(**{
        "teacher.path": str(folder / "teacher"), "data.max_length": 16, "distill.epochs": 1,
        "distill.min_steps": 0, "distill.batch_size": 8, "student.importance_examples": 8,
        "ladder.students": RUNGS, "ladder.start": "2x2x32", "ladder.target_retention": 0.01, "skip": ("prune", "qat")})
    ctx = PipelineContext(config, data, tokenizer, str(output_dir), None)
    runner.run_stages(ctx)
    return ctx


class _Stop(Exception):
    pass


def test_the_distill_stage_climbs_ships_the_chosen_shape_and_resumes_mid_ladder(tiny, tmp_path, monkeypatch,
                                                                                capsys):
    import tfdistill
    from tfdistill.pipeline import stages

    distilled, real, stop_at = [], stages._distill_student, [2]

    def distill_student(ctx, teacher, student_config, backup_dir):
        distilled.append(student_config.layers * 100 + student_config.intermediate)
        if len(distilled) in stop_at:
            raise _Stop  # the first run dies in its second rung
        return real(ctx, teacher, student_config, backup_dir)

    monkeypatch.setattr(stages, "_distill_student", distill_student)
    with pytest.raises(_Stop):
        _run(tiny, tmp_path / "run", monkeypatch)
    assert (tmp_path / "run" / "training_backup").exists() and not (tmp_path / "run" / "distill").exists()
    capsys.readouterr()

    distilled.clear(), stop_at.clear()
    ctx = _run(tiny, tmp_path / "run", monkeypatch)
    assert "ladder: 2x2x32 finished earlier" in capsys.readouterr().out
    assert distilled == [116, 108]  # the top rung was not trained again
    outputs = json.load(open(tmp_path / "run" / "distill" / "manifest.json"))["outputs"]
    record = outputs["ladder"]
    assert [rung["name"] for rung in record["rungs"]] == list(RUNGS)
    assert record["chosen"] == outputs["student"] == "1x1x8" and record["met_target"] and record["note"] is None
    # The choice follows the rule from the recorded validation results.
    by_name = {rung["name"]: rung for rung in record["rungs"]}
    assert ladder.climb(list(RUNGS), "2x2x32", by_name.get)[0] == record["chosen"]
    teacher_accuracy, examples = ctx.outputs("teacher")["validation_accuracy"], len(ctx.data.validation)
    for rung in record["rungs"]:
        assert rung["validation_retention"] == pytest.approx(rung["validation_accuracy"] / teacher_accuracy)
        accuracy = rung["validation_accuracy"]
        bound = (accuracy - np.sqrt(accuracy * (1 - accuracy) / examples)) / teacher_accuracy  # one standard error
        assert rung["retention_bound"] == pytest.approx(bound) and rung["meets_target"] == (bound >= 0.01)
        assert 0 < rung["compute_ratio"] < 1
    for key in ("compute_ratio", "non_embedding_params", "params"):
        assert by_name["1x1x8"][key] < by_name["1x2x16"][key] < by_name["2x2x32"][key], key
    shipped = tfdistill.load_config(str(tmp_path / "run" / "distill" / "model"))
    assert (shipped.num_layers, shipped.num_heads, shipped.intermediate_size) == (1, 1, 8)
    assert outputs["validation_accuracy"] == pytest.approx(by_name["1x1x8"]["validation_accuracy"])
    assert "chosen by the retention ladder" in (tmp_path / "run" / "distill" / "model" / "README.md").read_text()
    table = "\n".join(ladder.markdown(record))
    assert f"| 1x1x8 | 1 x 1 x 8 | {by_name['1x1x8']['non_embedding_params'] / 1e6:.2f}M |" in table and "chosen: **1x1x8**" in table
    assert not list((tmp_path / "run" / "training_backup").iterdir())  # the rungs' backup goes with the stage


def test_the_distill_stage_starts_from_a_general_student(tiny, tmp_path, monkeypatch):
    """`student.init` (`--student_init`): the distill stage loads the general student, gives it the
    task's head and distils it; its shape is the general student's, whatever the shape fields say."""
    import tfdistill
    from tfdistill.config import RunConfig
    from tfdistill.distill.student import student_from_teacher
    from tfdistill.pipeline import runner
    from tfdistill.pipeline.context import PipelineContext

    folder, tokenizer, data = tiny
    encoder = tfdistill.load_pretrained(str(folder / "teacher"))
    encoder = tfdistill.build_bert(encoder.bert_config.replace(num_labels=None, label_names=None))
    general = student_from_teacher(encoder, 1, hidden_size=16, num_heads=2, intermediate_size=24)
    tfdistill.save_pretrained(general, str(tmp_path / "general"), tokenizer=tokenizer)
    for stage in ("export", "evaluate", "benchmark"):
        monkeypatch.setitem(runner.STAGES, stage, lambda ctx, stage_folder: {})
    config = RunConfig().replace(**{
        "teacher.path": str(folder / "teacher"), "data.max_length": 16, "distill.epochs": 1, "distill.min_steps": 0,
        "distill.batch_size": 8, "ladder.target_retention": 0.0, "student.init": str(tmp_path / "general"),
        "skip": ("prune", "qat")})
    runner.run_stages(PipelineContext(config, data, tokenizer, str(tmp_path / "run"), None))
    student = tfdistill.load_pretrained(str(tmp_path / "run" / "distill" / "model"))
    assert (student.bert_config.num_layers, student.bert_config.hidden_size, student.bert_config.intermediate_size,
            student.bert_config.label_names) == (1, 16, 24, tuple(WORDS))
