"""The typed run config (`tfdistill.config`): JSON round trips, validation, presets equal to the
pipeline's historical defaults, overrides, the flags -> config resolution, and the runner's
per-stage inputs. No training: the pipeline run itself (and its `--config=run.json` rerun) is in
tests/test_pipeline.py."""

import ast
import json
import os
import subprocess
import sys

import pytest

from tfdistill.config import (ConfigError, DistillConfig, LossConfig, RunConfig, StudentConfig, get_preset,
                              get_student_preset, list_presets, list_student_presets, register_preset)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The pipeline's values before the config existed (recipes/pipeline.py's flag defaults and PRESETS,
# tfdistill/cli/distill_flags.py, and the batch size of 32 and prune learning rate 1e-4 it hard-coded),
# plus the step floors (`min_steps`), which leave Rotten Tomatoes' epochs as they were.
DEFAULT = {
    "data": {"dataset": None, "train_file": None, "validation_file": None, "test_file": None, "text_column": "text",
             "label_column": "label", "text_pair_column": None, "data_dir": None, "max_examples": None,
             "max_length": 64},
    "teacher": {"path": None, "base_model": None, "epochs": 2, "learning_rate": 5e-5, "batch_size": 32,
                "min_steps": 600},
    "student": {"layers": 4, "hidden": None, "heads": 6, "intermediate": 384, "head_size": None,
                "importance_examples": 512, "embedding_init": "auto", "layer_map": "uniform", "init": None,
                "embedding_size": None},
    # Added with the retention ladder (the demo's student is its start).
    "ladder": {"target_retention": 0.98, "margin_standard_errors": 1.0, "students": ["2x4x256", "3x4x384", "4x6x384", "5x8x768"],
               "start": "4x6x384"},
    "losses": {"logit_weight": 1.0, "hard_weight": 0.5, "hidden_weight": 0.0, "embedding_weight": 0.0,
               "attention_weight": 0.0, "relation_weight": 0.0, "cosine_weight": 0.0, "temperature": 2.0,
               "head_average": False},
    "distill": {"epochs": 2, "intermediate_epochs": 0, "learning_rate": 2e-4, "batch_size": 32, "augment": 0,
                "min_steps": 600},
    "prune": {"epochs": 1, "learning_rate": 1e-4, "batch_size": 32, "target_sparsity": 0.5, "min_steps": 300},
    "qat": {"epochs": 1, "learning_rate": 2e-5, "batch_size": 32, "source": "distill", "calibration_steps": 20,
            "min_steps": 300, "int8_scope": "xnnpack"},
    "export": {"num_representative": 200, "modes": ["float32", "float16", "dynamic", "int8"], "vocabulary": "both"},
    "benchmark": {"threads": 1, "runs": 50},
    "seed": 0, "skip": [], "mixed_precision": "auto", "cache_teacher_outputs": True, "lazy_adam": False,
    "tensorboard_dir": None,
}


def _with(values, **sections):
    """`values` with some fields of some sections changed: `_with(DEFAULT, distill={"epochs": 3})`."""
    return {**values, **{name: {**values[name], **fields} for name, fields in sections.items()}}


# ---------------------------------------------------------------------------------------------
# Presets


def test_default_and_full_presets_keep_the_pipelines_values():
    assert get_preset("default").to_dict() == DEFAULT == RunConfig().to_dict()
    assert get_preset("full").to_dict() == _with(DEFAULT, teacher={"epochs": 3}, distill={"epochs": 3, "augment": 1},
                                                 prune={"epochs": 2}, qat={"epochs": 2})
    assert {"default", "demo", "full", "tinybert"} <= set(list_presets())
    assert {"4x6x384", "tinybert4"} <= set(list_student_presets())
    assert get_student_preset("4x6x384") == get_preset("default").student


def test_demo_preset_is_the_default_pipeline_cut_to_one_student_without_compression():
    # make demo: the default's teacher, student and distillation; no other ladder rung, no
    # pruning or QAT; float32, dynamic and int8 exports with the used vocabulary.
    assert get_preset("demo").to_dict() == {**_with(DEFAULT, ladder={"target_retention": 0.0},
                                                    export={"modes": ["float32", "dynamic", "int8"],
                                                            "vocabulary": "used"}),
                                            "skip": ["prune", "qat"]}
    assert not get_preset("demo").ladder.enabled


def test_tinybert_preset_runs_two_stages_on_the_tinybert4_student():
    config = get_preset("tinybert")
    assert config.student == get_student_preset("tinybert4")
    assert (config.distill.intermediate_epochs, config.distill.epochs) == (2, 3)
    assert [term["loss"] for term in config.loss_terms()] == [
        "logit_kd", "hard_label", "hidden_mse", "embedding_mse", "attention"]
    assert config.to_dict()["teacher"] == DEFAULT["teacher"] and config.prune == get_preset("default").prune


def test_presets_are_fresh_and_names_unique():
    assert get_preset("default") is not get_preset("default")
    with pytest.raises(ValueError, match="'demo' is already registered"):
        register_preset("demo")(RunConfig)
    with pytest.raises(ConfigError, match=r"Unknown run preset 'demoo'; the presets are \[.*'demo'"):
        get_preset("demoo")
    with pytest.raises(ConfigError, match="Unknown student preset '4x6'"):
        get_student_preset("4x6")


# ---------------------------------------------------------------------------------------------
# Round trips, overrides, unknown keys


def test_json_round_trip(tmp_path):
    config = get_preset("full").replace(**{"skip": ["prune"], "data.train_file": "/data/tickets.csv",
                                           "student.layer_map": "2,4,6", "qat.batch_size": 16})
    path = str(tmp_path / "run.json")
    config.save(path)
    assert RunConfig.load(path) == config
    saved = json.load(open(path))
    assert saved["skip"] == ["prune"] and saved["qat"]["batch_size"] == 16 and saved["student"]["layer_map"] == "2,4,6"
    assert os.listdir(tmp_path) == ["run.json"]  # written atomically: no temporary left


def test_a_partial_file_takes_defaults(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"distill": {"learning_rate": 1e-4}, "seed": 3}))
    config = RunConfig.load(str(path))
    assert config == RunConfig(seed=3, distill=DistillConfig(learning_rate=1e-4))


def test_overrides_by_dotted_name_section_dict_and_string():
    config = RunConfig().replace(seed=1, distill={"epochs": 4}, **{"distill.learning_rate": 1e-4})
    assert (config.seed, config.distill.epochs, config.distill.learning_rate) == (1, 4, 1e-4)
    assert config.distill.batch_size == 32 and config.student == RunConfig().student
    assert RunConfig().replace(**{"distill.learning_rate": 1}).distill.learning_rate == 1.0  # int -> float
    parsed = dict(RunConfig.parse_override(text) for text in [
        "qat.batch_size=16", "teacher.path=none", "losses.head_average=true", "skip=prune,qat",
        "distill.learning_rate=1e-4", "student.layer_map=2,4"])
    assert parsed == {"qat.batch_size": 16, "teacher.path": None, "losses.head_average": True,
                      "skip": ("prune", "qat"), "distill.learning_rate": 1e-4, "student.layer_map": "2,4"}
    config = RunConfig().replace(**parsed)
    assert config.skip == ("prune", "qat") and config.qat.batch_size == 16


@pytest.mark.parametrize("call, message", [
    (lambda: RunConfig.from_dict({"distill": {"learnin_rate": 1e-4}}),
     r"Unknown key \['distill.learnin_rate'\] in the distill section; its keys are \['augment', 'batch_size'"),
    (lambda: RunConfig.from_dict({"distil": {}}), r"Unknown key \['distil'\] in a run config"),
    (lambda: RunConfig().replace(**{"distill.lr": 1}), "Unknown config key 'distill.lr': the distill section has no"),
    (lambda: RunConfig().replace(**{"seed.value": 1}), "seed is a value, not a section"),
    (lambda: RunConfig.parse_override("distill.learning_rate"), "has no '='"),
    (lambda: RunConfig.parse_override("distill=1"), "names the whole distill section"),
    (lambda: RunConfig.parse_override("distill.epochs=two"), "distill.epochs=two must be an integer"),
    (lambda: RunConfig.from_dict({"qat": []}), "the qat section must be a JSON object"),
])
def test_unknown_keys_and_bad_overrides_are_refused(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_a_bad_file_names_itself(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{"prune": {"target_sparsity": 2}}')
    with pytest.raises(ConfigError, match=r"run.json: prune.target_sparsity=2.0 must be in \(0, 1\)"):
        RunConfig.load(str(path))
    path.write_text('{"prune": ')
    with pytest.raises(ConfigError, match="is not valid JSON"):
        RunConfig.load(str(path))
    with pytest.raises(FileNotFoundError, match="No run config at"):
        RunConfig.load(str(tmp_path / "missing.json"))


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("overrides, message", [
    ({"prune.target_sparsity": 1.5}, r"prune.target_sparsity=1.5 must be in \(0, 1\)"),
    ({"distill.learning_rate": 0}, "distill.learning_rate=0.0 must be a finite number > 0"),
    ({"distill.batch_size": 0}, "distill.batch_size=0 must be >= 1"),
    ({"teacher.epochs": 0}, "teacher.epochs=0 must be >= 1"),
    ({"qat.source": "teacher"}, r"qat.source=teacher must be one of \['distill', 'prune'\]"),
    ({"student.heads": 0}, r"student.heads=0 must be >= 1 \(or null for the default\)"),
    ({"student.embedding_init": "zeros"}, "student.embedding_init=zeros must be one of"),
    ({"student.layer_map": "2;4"}, "student.layer_map=2;4 must be one of .* or teacher layer numbers"),
    ({"losses.hidden_weight": -1}, "losses.hidden_weight=-1.0 is negative; loss weights must be >= 0"),
    ({"losses.logit_weight": 0, "losses.hard_weight": 0},
     "Every loss weight is 0; set at least losses.logit_weight or losses.hard_weight above 0"),
    ({"losses.temperature": 0}, "losses.temperature=0.0 must be a finite number > 0"),
    ({"data.max_length": 1}, "data.max_length=1 must be >= 2"),
    ({"mixed_precision": "fp16"}, "mixed_precision=fp16 must be one of"),
    ({"skip": ["prune", "prune"]}, "skip=prune,prune names a stage twice"),
    ({"seed": "0"}, "seed='0' must be an integer, not str"),
    ({"distill.epochs": 2.5}, "distill.epochs=2.5 must be an integer, not float"),
    ({"losses.head_average": 1}, "losses.head_average=1 must be true or false, not int"),
    ({"distill.epochs": True}, "distill.epochs=True must be an integer, not bool"),
    ({"tensorboard_dir": ""}, "tensorboard_dir='' must name a folder"),
    ({"ladder.target_retention": 1.5}, r"ladder.target_retention=1.5 must be in \[0, 1\]"),
    ({"student.init": "runs/general"}, "student.init=runs/general fixes the student's shape, so the retention ladder"),
    ({"student.init": "", "ladder.target_retention": 0}, "student.init='' must name a folder"),
    ({"ladder.margin_standard_errors": -1}, r"ladder.margin_standard_errors=-1.0 must be >= 0"),
    ({"ladder.students": []}, "ladder.students='' must name at least one student shape"),
    ({"ladder.start": "9x9x9"}, r"ladder.start=9x9x9 must be one of ladder.students \['2x4x256'"),
    ({"export.modes": ["int8", "int4"]}, r"export.modes=int8,int4 must name some of \['float32', 'float16'"),
    ({"export.modes": ["int8", "int8"]}, "export.modes=int8,int8 must name some of .* each once"),
    ({"export.modes": []}, "export.modes='' must name some of"),
    ({"ladder.students": ["2x4x256", "4x6"], "ladder.start": None},
     r"ladder.students: Unknown student preset '4x6'; .* or name a shape kept from the teacher as LAYERSxHEADSxFFN"),
])
def test_bad_values_name_the_field_and_the_fix(overrides, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig().replace(**overrides)


def test_errors_can_be_spelt_as_flags():
    with pytest.raises(ConfigError) as caught:
        LossConfig(logit_weight=0, hard_weight=0)
    renamed = caught.value.renamed({"losses.logit_weight": "--logit_weight", "losses.hard_weight": "--hard_weight"})
    assert str(renamed) == "Every loss weight is 0; set at least --logit_weight or --hard_weight above 0."
    # Whole names only: renaming distill.epochs leaves distill.intermediate_epochs alone.
    error = ConfigError("distill.epochs and distill.intermediate_epochs", ("distill.epochs",))
    assert str(error.renamed({"distill.epochs": "--epochs"})) == "--epochs and distill.intermediate_epochs"


def test_loss_terms_are_the_flags_terms():
    config = LossConfig(hidden_weight=1, embedding_weight=2, attention_weight=3, relation_weight=4, cosine_weight=5,
                        temperature=4.0, head_average=True)
    assert config.terms("2,4") == [
        {"loss": "logit_kd", "weight": 1.0, "temperature": 4.0},
        {"loss": "hard_label", "weight": 0.5},
        {"loss": "hidden_mse", "weight": 1.0, "layer_map": "2,4"},
        {"loss": "embedding_mse", "weight": 2.0},
        {"loss": "attention", "target": "probs", "weight": 3.0, "layer_map": "2,4", "head_average": True},
        {"loss": "minilm_relation", "weight": 4.0},
        {"loss": "hidden_cosine", "weight": 5.0, "layer_map": "2,4"},
    ]
    assert RunConfig(student=StudentConfig(layer_map="last"), losses=config).loss_terms() == config.terms("last")


def test_config_choices_match_the_layers_that_use_them():
    from tfdistill.config import sections
    from tfdistill.distill import layer_map, losses, student
    from tfdistill.export import modes
    from tfdistill.training import precision

    assert sections.EMBEDDING_INITS == student.EMBEDDING_INITS
    assert sections.LAYER_MAP_STRATEGIES == layer_map.STRATEGIES
    assert sections.MIXED_PRECISION_MODES == precision.MODES
    assert set(sections.STUDENT_EXPORT_MODES) < set(modes.MODES)  # plus `qat`, for the QAT student
    for term in LossConfig(**{name: 1.0 for name in LossConfig.TERMS}).terms():
        losses.get(term)  # every term the config can switch on is a registered loss


# ---------------------------------------------------------------------------------------------
# Layering: the config is the bottom layer; the pipeline never reaches up into the CLI


def test_the_config_imports_only_the_standard_library_and_utils():
    code = ("import json, sys, tfdistill.config; "
            "print(json.dumps([m for m in sys.modules if m.startswith(('tfdistill', 'tensorflow', 'absl', 'numpy'))]))")
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    allowed = ("tfdistill.config", "tfdistill.utils")
    assert all(name == "tfdistill" or name.startswith(allowed) for name in loaded), loaded


def test_no_pipeline_module_imports_the_cli():
    folder = os.path.join(ROOT, "tfdistill", "pipeline")
    for name in os.listdir(folder):
        if name.endswith(".py"):
            tree = ast.parse(open(os.path.join(folder, name)).read())
            imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
            imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
            assert not [module for module in imported if module and module.startswith("tfdistill.cli")], name


# ---------------------------------------------------------------------------------------------
# Flags -> RunConfig (tfdistill.cli.run_config_flags), in one subprocess: the flags are global

_RESOLVE = """
import json, sys
from tfdistill.cli import pipeline, run_config_flags
from tfdistill.config import ConfigError

results = []
for argv in json.loads(sys.argv[1]):
    values = pipeline.FLAGS
    values.unparse_flags()
    try:
        values(["pipeline", "--output_dir=unused", *argv])
        results.append(run_config_flags.run_config_from_flags(values).to_dict())
    except (ConfigError, FileNotFoundError) as error:
        results.append({"error": str(error)})
defaults = {flag: values[flag].default for flag in run_config_flags.FLAG_FIELDS}
print(json.dumps({"results": results, "defaults": defaults}))
"""


@pytest.fixture(scope="module")
def saved_config(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("config") / "run.json")
    get_preset("full").replace(**{"qat.batch_size": 16, "distill.learning_rate": 1e-4}).save(path)
    return path


@pytest.fixture(scope="module")
def resolved(saved_config):
    """`{case: RunConfig dict or {"error": message}}`, and the flags' defaults."""
    cases = {
        "none": [],
        "full_epochs": ["--preset=full", "--epochs=5"],
        "config_flag": [f"--config={saved_config}", "--learning_rate=1e-3"],
        "config_and_preset": [f"--config={saved_config}", "--preset=demo"],
        "student_preset": ["--student_preset=tinybert4", "--student_heads=4"],
        "shape_name": ["--student_preset=3x2x128"],
        "shape_with_target": ["--student_layers=3", "--target_retention=0.9"],
        "ladder": ["--student_ladder=2x4x256,5x8x768", "--target_retention=0.95"],
        "ladder_start": ["--student_ladder=2x4x256,5x8x768", "--set=ladder.start=5x8x768"],
        "student_init": ["--student_init=general"],
        "student_init_ladder": ["--student_init=general", "--target_retention=0.9"],
        "set": ["--set=qat.batch_size=16", "--set=skip=prune", "--skip=qat"],
        "bad_flag": ["--target_sparsity=1.5"],
        "bad_set": ["--set=prune.target_sparsity=1.5"],
        "zero_weights": ["--logit_weight=0", "--hard_weight=0"],
        "relative": ["--teacher=teachers/mine", "--train_file=tickets.csv", "--tensorboard_dir=logs"],
        "tinybert_cfg": ["--preset=tinybert", f"--flagfile={ROOT}/recipes/configs/tinybert4.cfg"],
        "default_cfg": [f"--flagfile={ROOT}/recipes/configs/default.cfg"],
    }
    output = subprocess.run([sys.executable, "-c", _RESOLVE, json.dumps(list(cases.values()))], capture_output=True,
                            text=True, timeout=120, cwd=str(os.path.dirname(saved_config)))
    assert output.returncode == 0, output.stderr[-3000:]
    parsed = json.loads(output.stdout.splitlines()[-1])
    return dict(zip(cases, parsed["results"])), parsed["defaults"]


def test_flags_left_out_keep_the_preset(resolved):
    results, _ = resolved
    assert results["none"] == DEFAULT
    assert results["full_epochs"] == _with(get_preset("full").to_dict(), distill={"epochs": 5})


def test_explicit_flags_override_a_saved_config(resolved, saved_config):
    results, _ = resolved
    assert results["config_flag"] == _with(RunConfig.load(saved_config).to_dict(), distill={"learning_rate": 1e-3})
    assert results["config_flag"]["qat"]["batch_size"] == 16 and results["config_flag"]["distill"]["augment"] == 1
    assert "pass one of them" in results["config_and_preset"]["error"]


def test_student_preset_set_and_skip(resolved):
    results, _ = resolved
    assert results["student_preset"]["student"] == {**get_student_preset("tinybert4").to_dict(), "heads": 4}
    assert results["set"]["qat"]["batch_size"] == 16
    assert results["set"]["skip"] == ["prune"]  # --set is applied after the flags


def test_a_chosen_student_switches_the_ladder_off_unless_a_target_is_given(resolved):
    results, _ = resolved
    assert results["none"]["ladder"]["target_retention"] == 0.98
    assert results["student_preset"]["ladder"]["target_retention"] == 0.0
    assert results["shape_name"]["ladder"]["target_retention"] == 0.0
    assert (results["shape_name"]["student"]["layers"], results["shape_name"]["student"]["heads"],
            results["shape_name"]["student"]["intermediate"]) == (3, 2, 128)
    assert results["shape_with_target"]["ladder"]["target_retention"] == 0.9
    # A ladder given on the command line climbs from its smallest rung, unless told otherwise.
    assert results["ladder"]["ladder"] == {"target_retention": 0.95, "margin_standard_errors": 1.0,
                                           "students": ["2x4x256", "5x8x768"], "start": None}
    assert results["ladder_start"]["ladder"]["start"] == "5x8x768"
    # A general student fixes the shape: no ladder, and asking for one is refused.
    assert results["student_init"]["ladder"]["target_retention"] == 0.0
    assert os.path.isabs(results["student_init"]["student"]["init"])
    assert results["student_init"]["student"]["init"].endswith("general")
    assert "--student_init=" in results["student_init_ladder"]["error"]
    assert "fixes the student's shape" in results["student_init_ladder"]["error"]


def test_refused_values_are_named_as_given(resolved):
    results, _ = resolved
    assert results["bad_flag"]["error"] == "--target_sparsity=1.5 must be in (0, 1)."
    assert results["bad_set"]["error"] == "prune.target_sparsity=1.5 must be in (0, 1)."
    assert results["zero_weights"]["error"] == (
        "Every loss weight is 0; set at least --logit_weight or --hard_weight above 0.")


def test_paths_are_recorded_absolute(resolved, saved_config):
    results, _ = resolved
    folder = os.path.dirname(saved_config)
    assert results["relative"]["teacher"]["path"] == os.path.join(folder, "teachers", "mine")
    assert results["relative"]["data"]["train_file"] == os.path.join(folder, "tickets.csv")
    assert results["relative"]["tensorboard_dir"] == os.path.join(folder, "logs")


def test_recipe_flagfiles_match_the_presets(resolved):
    results, _ = resolved
    # Every value tinybert4.cfg sets is the tinybert preset's already.
    assert results["tinybert_cfg"] == get_preset("tinybert").to_dict()
    default = results["default_cfg"]
    assert default["student"] == DEFAULT["student"] and default["losses"] == DEFAULT["losses"]


def test_flag_defaults_show_the_default_values(resolved):
    _, defaults = resolved
    from tfdistill.cli.run_config_flags import FLAG_FIELDS

    # The shape flags show recipes/distill.py's defaults (the teacher's heads and FFN); the
    # pipeline's student comes from its preset (4x6x384).
    differing = {"student_heads", "student_intermediate"}
    flat = {f"{section}.{name}" if isinstance(fields, dict) else section: value
            for section, fields in DEFAULT.items()
            for name, value in (fields.items() if isinstance(fields, dict) else [(None, fields)])}
    for flag, field in FLAG_FIELDS.items():
        if flag not in differing:
            assert defaults[flag] == flat[field], flag


# ---------------------------------------------------------------------------------------------
# The runner: each stage's inputs are config sections; a change names the field


def test_a_changed_field_redoes_its_stage_and_those_after(tmp_path, monkeypatch, capsys):
    from tfdistill.data.datasets import Split, TextClassificationData
    from tfdistill.pipeline import runner
    from tfdistill.pipeline.context import PipelineContext

    calls = []
    monkeypatch.setattr(runner, "STAGES", {name: lambda ctx, folder, name=name: calls.append(name) or {}
                                           for name in runner.ORDER})
    split = Split(["good film", "bad film", "good", "bad"], [1, 0, 1, 0])
    data = TextClassificationData("reviews", ["neg", "pos"], split, split, split)

    def run(config):
        return runner.run_stages(PipelineContext(config, data, None, str(tmp_path / "run"), None))

    config = RunConfig(skip=("prune", "qat"))
    run(config)
    assert calls == ["teacher", "distill", "export", "evaluate", "benchmark"]
    run(config.replace(cache_teacher_outputs=False))  # changes speed, not results
    run(config.replace(tensorboard_dir=str(tmp_path / "logs")))  # changes where the logs go, not results
    assert len(calls) == 5
    capsys.readouterr()
    run(config.replace(**{"distill.learning_rate": 1e-4, "distill.batch_size": 16}))
    assert calls[5:] == ["distill", "export", "evaluate", "benchmark"]
    assert ("== distill: distill.batch_size, distill.learning_rate changed since the earlier run; redoing it"
            in capsys.readouterr().out)
    assert runner.stage_inputs(config, "teacher") == {"data": DEFAULT["data"], "teacher": DEFAULT["teacher"], "seed": 0,
                                                      "mixed_precision": "auto", "lazy_adam": False}


def test_export_plan_follows_the_modes_the_vocabulary_and_the_stages_run():
    from tfdistill.pipeline.context import PipelineContext
    from tfdistill.pipeline.stages import export_plan

    def names(config):
        return [name for name, *_ in export_plan(PipelineContext(config, None, None, "runs/x"))]

    assert names(get_preset("demo")) == ["teacher_float32", "distill_float32", "distill_dynamic", "distill_int8"]
    default = names(RunConfig())
    assert len(default) == 13 and {"distill_float16", "prune_int8_used", "qat_qat", "qat_qat_used"} <= set(default)
    # The pruned student takes only the quantized modes; `used` alone renames nothing.
    assert names(RunConfig().replace(**{"export.modes": ["float32", "int8"], "export.vocabulary": "used",
                                        "skip": ["qat"]})) == ["teacher_float32", "distill_float32", "distill_int8",
                                                               "prune_int8"]


def test_min_steps_raise_epochs_on_small_data_only():
    config = RunConfig()
    rotten_tomatoes = 10242  # training examples: 321 steps an epoch at batch 32
    assert [getattr(config, stage).epochs_for(rotten_tomatoes) for stage in ("teacher", "distill", "prune", "qat")] \
        == [2, 2, 1, 1]
    assert config.teacher.epochs_for(590) == 32 and config.prune.epochs_for(590) == 16
    assert config.replace(**{"teacher.min_steps": 0}).teacher.epochs_for(590) == 2
    with pytest.raises(ValueError, match=r"teacher\.min_steps"):
        config.replace(**{"teacher.min_steps": -1})
