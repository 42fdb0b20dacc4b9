"""The pipeline's stages. Each takes the run context and its stage folder (a temporary folder
that is published only when the stage returns) and returns the JSON outputs of its manifest.
Every setting comes from the run config, `ctx.config` (`tfdistill.config.RunConfig`). The stages
that save an HF model write it to `model/` with its model card (`README.md`); the training stages
log to `<tensorboard_dir>/<stage>` when the config names a TensorBoard folder."""

import functools
import os

import tfdistill
from tfdistill.models.bert.checkpoint import write_card_for_model, write_pretrained_files
from tfdistill.pipeline import ladder
from tfdistill.training import evaluation, finetune
from tfdistill.training.callbacks import tensorboard_callbacks
from tfdistill.training.outputs import model_card_data

ORDER = ("teacher", "distill", "prune", "qat", "export", "evaluate", "benchmark")
OPTIONAL = ("prune", "qat")
# The model card of each stage that saves a model folder: what the model is, the stage whose model
# it started from (None: the base model), the stage it is compared with, and its Hub tags.
_CARDS = {
    "teacher": {"kind": "fine-tuned classifier", "source": None, "reference": None, "tags": ()},
    "distill": {"kind": "distilled student", "source": "teacher", "reference": "teacher", "tags": ("distillation",)},
    "prune": {"kind": "pruned student", "source": "distill", "reference": "distill", "tags": ("pruning",)},
}
# How a card names the model of a stage it started from or is compared with.
_ROLE_NAMES = {None: "base model", "teacher": "teacher", "distill": "distilled student"}


def _accuracies(model, ctx):
    """`{"validation_accuracy": ..., "accuracy": <test>}`: the report chooses on the first."""
    return {key: evaluation.accuracy(model, ctx.preprocessor, getattr(ctx.data, split))
            for key, split in (("validation_accuracy", "validation"), ("accuracy", "test"))}


def _model_summary(model, ctx, path):
    total, non_embedding = finetune.count_params(model)
    return {"path": path, "params": total, "non_embedding_params": non_embedding, **_accuracies(model, ctx)}


def _save(model, folder, ctx, stage, details=()):
    """Writes an HF folder `model/` in the stage folder, its model card (`README.md`) included;
    returns the model's summary (its `path` relative to the stage folder)."""
    summary = _model_summary(model, ctx, "model")
    path = os.path.join(folder, "model")
    os.makedirs(path)
    write_pretrained_files(model, path, ctx.tokenizer)
    write_card_for_model(model, path, _model_card(ctx, stage, summary, details))
    return summary


def _model_card(ctx, stage, summary, details=()):
    """The model card of a stage's model folder: the data, the stage's settings in the run config,
    its accuracy, and the model it started from (and is compared with).

    Args:
        stage: `"teacher"`, `"distill"` or `"prune"`.
        summary: the stage's `_model_summary`.
        details: `(label, text)` pairs of more facts (the pruned student's sparsity).
    """
    config, card = ctx.config, _CARDS[stage]
    source, reference = card["source"], card["reference"]
    source_path = ctx.path(source, ctx.outputs(source)["path"]) if source else ctx.base_model
    # The recipes' card gives the data's facts (and how the built-in dataset was split) and the
    # shipped teacher's Hub id; the rest comes from the run config and the earlier stages.
    base = model_card_data(ctx.path(stage, "model"), ctx.data, {"model": source_path})
    settings = {key: value for key, value in getattr(config, stage).to_dict().items()
                if key not in ("path", "base_model")}
    return base.replace(
        name=stage, kind=card["kind"], base_model=source_path, base_model_role=_ROLE_NAMES[source], tags=card["tags"],
        guided_by=ctx.path("teacher", ctx.outputs("teacher")["path"]) if stage == "prune" else None,
        losses=_stage_losses(ctx, stage), hyperparameters={**settings, "seed": config.seed},
        max_length=config.data.max_length, details=tuple(details), accuracy=_split_accuracies(summary),
        reference_name=_ROLE_NAMES[reference] if reference else None,
        reference_accuracy=_split_accuracies(ctx.outputs(reference)) if reference else {})


def _stage_losses(ctx, stage):
    """The loss terms a stage trained with, as its card states them (fine-tuning: none)."""
    if stage == "distill":
        return tuple(ctx.config.loss_terms())
    if stage == "prune":
        from tfdistill.compress.training import DEFAULT_LOSSES  # prune_stage's fit_student trains with them

        return DEFAULT_LOSSES
    return ()


def _split_accuracies(summary):
    """`{"validation": ..., "test": ...}` of a `_model_summary` (or a stage's outputs)."""
    return {"validation": summary["validation_accuracy"], "test": summary["accuracy"]}


def teacher_stage(ctx, folder):
    """Fine-tunes the base model (or takes `teacher.path` as given) and measures it."""
    config = ctx.config
    if config.teacher.path:
        from tfdistill.training.classifier import load_classifier

        # Checks its head and class names against the data (already in its order: tfdistill.cli.pipeline).
        teacher = load_classifier(config.teacher.path, ctx.data, role="teacher")
        return _model_summary(teacher, ctx, os.path.abspath(config.teacher.path))
    teacher = tfdistill.load_pretrained(ctx.base_model, num_labels=ctx.data.num_classes)
    teacher.bert_config = teacher.bert_config.replace(label_names=tuple(ctx.data.label_names))
    finetune.fine_tune_classifier(teacher, ctx.preprocessor, ctx.data,
                                  epochs=stage_epochs(ctx, "teacher"), batch_size=config.teacher.batch_size,
                                  learning_rate=config.teacher.learning_rate, seed=config.seed,
                                  backup_dir=ctx.backup_dir, callbacks=tensorboard_callbacks(ctx.log_dir("teacher")))
    return _save(teacher, folder, ctx, "teacher")


def distill_stage(ctx, folder):
    """Distils the student (or, with the retention ladder on, the smallest student shape that
    keeps `ladder.target_retention` of the teacher's validation accuracy; `ladder`)."""
    config = ctx.config
    teacher = ctx.model("teacher")
    if not config.ladder.enabled:
        student = _distill_student(ctx, teacher, config.student, ctx.backup_dir)
        return _save(student, folder, ctx, "distill")
    chosen, outputs = _climb_ladder(ctx, teacher)
    details = [("Student shape", f"{chosen.bert_config.num_layers} blocks x {chosen.bert_config.num_heads} heads x "
                f"{chosen.bert_config.intermediate_size} FFN units ({outputs['chosen']}), chosen by the retention "
                f"ladder (target {outputs['target_retention']:.0%} of the teacher's validation accuracy)")]
    summary = _save(chosen, folder, ctx, "distill", details=details)
    return {**summary, "student": outputs["chosen"], "ladder": outputs}


def _distill_student(ctx, teacher, student_config, backup_dir):
    """Builds a student of `student_config` from the teacher (or loads the general student it
    names) and distils it."""
    from tfdistill.distill.from_config import student_from_config
    from tfdistill.distill.general import load_general_student
    from tfdistill.distill.training import distill

    config = ctx.config
    if student_config.init:
        student = load_general_student(student_config.init, teacher, ctx.preprocessor, ctx.data.label_names)
    else:
        student = student_from_config(teacher, student_config, ctx.preprocessor, ctx.data.train)
    distill(teacher, student, ctx.preprocessor, ctx.data, losses=config.losses.terms(student_config.layer_map),
            epochs=stage_epochs(ctx, "distill"),
            intermediate_epochs=config.distill.intermediate_epochs, batch_size=config.distill.batch_size,
            learning_rate=config.distill.learning_rate, augment=config.distill.augment, seed=config.seed,
            backup_dir=backup_dir, callbacks=tensorboard_callbacks(ctx.log_dir("distill")))
    return student


def _climb_ladder(ctx, teacher):
    """Distils the ladder's rungs as `ladder.climb` asks; returns `(chosen student, ladder summary)`."""
    import tf_keras as keras

    from tfdistill.config.presets import ladder_students

    config, max_length = ctx.config, ctx.config.data.max_length
    rungs, store = dict(ladder_students(config)), ladder.RungStore(ctx.backup_dir)
    teacher_accuracy, models = ctx.outputs("teacher")["validation_accuracy"], {}

    def evaluate(name):
        finished = store.load(name)
        if finished is not None:
            print(f"   ladder: {name} finished earlier (kept in the stage's backup)", flush=True)
            models[name], result = finished
            return result
        print(f"   ladder: distilling {name} (layers x heads x FFN)", flush=True)
        keras.utils.set_random_seed(config.seed)  # each rung starts alike, whichever rungs ran before it
        student = _distill_student(ctx, teacher, rungs[name], store.rung_backup(name))
        accuracy = evaluation.accuracy(student, ctx.preprocessor, ctx.data.validation)
        result = ladder.rung_result(name, rungs[name], student, teacher.bert_config, accuracy, teacher_accuracy,
                                    config.ladder, len(ctx.data.validation), max_length)
        print(f"   ladder: {name}: validation accuracy {accuracy:.4f}, retention "
              f"{ladder.format_ratio(result['validation_retention'])}, less the margin "
              f"{ladder.format_ratio(result['retention_bound'])} ({'meets' if result['meets_target'] else 'below'} "
              f"the target {config.ladder.target_retention})", flush=True)
        store.save(name, student, result, ctx.tokenizer)
        models[name] = student
        return result

    chosen, tried = ladder.climb(list(rungs), config.ladder.start, evaluate)
    outputs = ladder.summary(config.ladder, chosen, tried, teacher_accuracy)
    if outputs["note"]:
        print(f"   ladder: {outputs['note']}", flush=True)
    return models[chosen], outputs


def stage_epochs(ctx, stage):
    """The stage's epochs on this data: its config's `epochs`, more when small data would give fewer
    than its `min_steps` (said once, so the run's log shows why a stage takes longer)."""
    section = getattr(ctx.config, stage)
    epochs = section.epochs_for(len(ctx.data.train))
    if epochs != section.epochs:
        print(f"   {stage}: {epochs} epochs instead of {section.epochs}, to train at least {section.min_steps} "
              f"steps on {len(ctx.data.train)} examples ({stage}.min_steps)", flush=True)
    return epochs


def _train_steps(ctx, epochs, batch_size):
    return epochs * -(-len(ctx.data.train) // batch_size)


def prune_stage(ctx, folder):
    """Prunes the distilled student while the teacher keeps guiding it, then strips the wrappers."""
    from tfdistill import compress

    prune = ctx.config.prune
    epochs = stage_epochs(ctx, "prune")
    schedule = compress.PruningConfig.for_steps(_train_steps(ctx, epochs, prune.batch_size),
                                                target_sparsity=prune.target_sparsity)
    # Embedding rows of tokens the training data never uses are pruned first (they cost nothing).
    used = compress.training_token_ids(ctx.preprocessor, ctx.data.train)
    pruned = compress.prune_student(ctx.model("distill"), schedule, used_token_ids=used)
    # PruningSummaries is a TensorBoard callback: it logs the losses and metrics too.
    compress.fit_student(pruned, ctx.preprocessor, ctx.data, teacher=ctx.model("teacher"), epochs=epochs,
                         batch_size=prune.batch_size, learning_rate=prune.learning_rate,
                         seed=ctx.config.seed, backup_dir=ctx.backup_dir, log_dir=ctx.log_dir("prune"))
    student = compress.strip_student(pruned)
    sparsity = compress.overall_sparsity(compress.weight_sparsity(student))
    summary = _save(student, folder, ctx, "prune", details=[("Zeros in all weights", f"{sparsity:.1%}")])
    return {**summary, "sparsity": sparsity}


def qat_stage(ctx, folder):
    """Quantization-aware training of the (pruned) student, ranges calibrated first."""
    from tfdistill import compress

    settings, seed = ctx.config.qat, ctx.config.seed
    source = settings.source if ctx.ran(settings.source) else "distill"
    student = ctx.model(source)
    qat = compress.quantize_student(student, preserve_sparsity=source == "prune", int8_scope=settings.int8_scope)
    calibration = ctx.preprocessor.dataset(ctx.data.train, settings.batch_size, shuffle=True, seed=seed)
    compress.calibrate_ranges(qat, calibration, steps=settings.calibration_steps)
    compress.fit_student(qat, ctx.preprocessor, ctx.data, teacher=ctx.model("teacher"), epochs=stage_epochs(ctx, "qat"),
                         batch_size=settings.batch_size, learning_rate=settings.learning_rate,
                         seed=seed, backup_dir=ctx.backup_dir, callbacks=tensorboard_callbacks(ctx.log_dir("qat")))
    compress.save_quantized(qat, os.path.join(folder, "qat_model.h5"))
    return {"path": "qat_model.h5", "source": source, "int8_scope": settings.int8_scope, **_accuracies(qat, ctx),
            "params": student.count_params(),
            "sparsity": compress.overall_sparsity(compress.weight_sparsity(student))}


# Modes a shipped student may have (`selection.SHIP_PREFERENCE`): with `export.vocabulary=both`
# each is exported with the teacher's vocabulary and with the used one, and the choice of the
# shipped student (on validation, ties to the smaller download) decides between them.
SHIPPABLE_MODES = ("dynamic", "int8", "qat")


def export_plan(ctx):
    """Returns `[(package_name, stage, mode, vocabulary)]`: the teacher in fp32, the students in
    the modes `export.modes` names (and QAT's), each with the word table `export.vocabulary`
    says (`full` or `used`)."""
    setting, modes = ctx.config.export.vocabulary, ctx.config.export.modes
    student = [("distill", mode) for mode in modes]
    if ctx.ran("prune"):
        student += [("prune", mode) for mode in modes if mode in SHIPPABLE_MODES]
    if ctx.ran("qat"):
        student.append(("qat", "qat"))
    plan = [("teacher_float32", "teacher", "float32", "full")]
    for stage, mode in student:
        plan.append((f"{stage}_{mode}", stage, mode, "full" if setting == "both" else setting))
        if setting == "both" and mode in SHIPPABLE_MODES:
            plan.append((f"{stage}_{mode}_used", stage, mode, "used"))
    return plan


def export_stage(ctx, folder):
    """Exports every model of `export_plan` as a validated model package.

    A mode whose `.tflite` disagrees with its Keras model is refused (nothing written) and
    recorded with the reason; the other modes go on.
    """
    from tfdistill import export

    packages, refused, models = {}, {}, {}
    used_tokens = functools.cache(lambda: _used_tokens(ctx))  # one tokenization of the training split
    for name, stage, mode, vocabulary in export_plan(ctx):
        if (stage, vocabulary) not in models:
            models[stage, vocabulary] = _export_model(ctx, stage, vocabulary, used_tokens)
        model, tokenizer = models[stage, vocabulary]
        try:
            result = export.export_tflite(
                model, os.path.join(folder, name), mode, ctx.config.data.max_length, tokenizer,
                ctx.data.train, ctx.data.validation, None, labels=ctx.data.label_names, source=stage,
                num_representative=ctx.config.export.num_representative)
        except export.ExportValidationError as error:
            print(f"   {name}: refused: {error}", flush=True)
            refused[name] = {"stage": stage, "mode": mode, "reason": str(error)}
            continue
        packages[name] = {"stage": stage, "mode": mode, "path": name, "vocab_size": tokenizer.vocab_size,
                          "params": _params(ctx, stage, tokenizer),
                          "agreement": result.card.get("validation", {}).get("agreement")}
    return {"packages": packages, "refused": refused}


def _params(ctx, stage, tokenizer):
    """The exported model's parameters: the stage's, less the word-table rows trimmed away."""
    rows_dropped = ctx.tokenizer.vocab_size - tokenizer.vocab_size
    return ctx.outputs(stage)["params"] - rows_dropped * ctx.model(stage).bert_config.hidden_size


def _used_tokens(ctx):
    """The token ids a `used` vocabulary keeps (`compress.vocabulary_to_keep` of the training split)."""
    from tfdistill import compress

    train = ctx.data.train
    return compress.vocabulary_to_keep(ctx.tokenizer, train.texts, text_pairs=train.text_pairs,
                                       max_length=ctx.config.data.max_length)


def _export_model(ctx, stage, vocabulary, used_tokens):
    """`(model, tokenizer)` a stage exports: with `vocabulary="used"`, its word table trimmed to
    `used_tokens()` (`compress.trim_vocabulary`); else as it is."""
    if vocabulary == "full":
        return ctx.model(stage), ctx.tokenizer
    from tfdistill import compress

    return compress.trim_vocabulary(ctx.model(stage), ctx.tokenizer, used_tokens())


def evaluate_stage(ctx, folder):
    """Accuracy of every exported student `.tflite` on the validation split (what the report
    chooses the shipped student by) and of every `.tflite` on the test split (what it reports),
    through the LiteRT interpreter with the package's own tokenizer, and of every MediaPipe-ready
    package through MediaPipe's TextClassifier (one subprocess per vocabulary)."""
    import tfdistill
    from tfdistill import export

    accuracy, validation_accuracy, logits, tokenizers = {}, {}, {}, {}
    # Every core: the accuracy does not depend on it (XNNPACK splits a matmul's outputs, not its
    # sums), and the fp32 teacher's two splits took 33 s on one thread, 19 s on two.
    threads = os.cpu_count() or 1
    for name, package in ctx.outputs("export")["packages"].items():
        path = ctx.path("export", name)
        tokenizers[name] = tfdistill.Tokenizer.from_pretrained(path)
        if package["stage"] != "teacher":  # nothing is chosen by the teacher's validation accuracy
            validation_accuracy[name] = export.evaluate_tflite(
                path, tokenizers[name], ctx.data.validation, num_threads=threads,
                label_names=ctx.data.label_names).accuracy
        result = export.evaluate_tflite(path, tokenizers[name], ctx.data.test, num_threads=threads,
                                        label_names=ctx.data.label_names)
        accuracy[name], logits[name] = result.accuracy, result.logits
    mediapipe = _evaluate_mediapipe(ctx, tokenizers, logits)
    if "skipped" in mediapipe:
        print(f"   MediaPipe accuracy not measured: {mediapipe['skipped']}", flush=True)
    return {"accuracy": accuracy, "validation_accuracy": validation_accuracy, "mediapipe": mediapipe}


def _evaluate_mediapipe(ctx, tokenizers, logits):
    """`evaluate_mediapipe` for each group of packages sharing a vocabulary, merged:
    `tokenized_differently` is the most texts any vocabulary tokenized differently, and
    `tokenized_differently_by_package` says it for each package."""
    from tfdistill.export.mediapipe_eval import evaluate_mediapipe

    groups = {}
    for name, tokenizer in tokenizers.items():
        groups.setdefault(tuple(tokenizer.vocab), []).append(name)
    merged = {}
    for names in groups.values():
        folders = {name: ctx.path("export", name) for name in names}
        result = evaluate_mediapipe(folders, tokenizers[names[0]], ctx.data.test, litert_logits=logits,
                                    label_names=ctx.data.label_names)
        if "skipped" in result:
            if "not_ready" not in merged and "accuracy" not in merged:
                merged = result  # nothing measured yet: keep the reason
            continue
        merged.pop("skipped", None)
        for key in ("accuracy", "max_abs_prob_diff_vs_litert", "not_ready", "tokenized_differently_by_package"):
            merged.setdefault(key, {})
        merged["accuracy"].update(result["accuracy"])
        merged["max_abs_prob_diff_vs_litert"].update(result["max_abs_prob_diff_vs_litert"])
        merged["not_ready"].update(result["not_ready"])
        merged["tokenized_differently_by_package"].update(dict.fromkeys(result["accuracy"],
                                                                       result["tokenized_differently"]))
        merged["examples"] = result["examples"]
        merged["tokenized_differently"] = max(merged.get("tokenized_differently", 0), result["tokenized_differently"])
        merged["seconds"] = merged.get("seconds", 0.0) + result["seconds"]
    return merged


def benchmark_stage(ctx, folder):
    """Latency of every `.tflite` (XNNPACK, `benchmark.threads`), like `benchmark_model`."""
    from tfdistill import export

    latency, settings = {}, ctx.config.benchmark
    for name in ctx.outputs("export")["packages"]:
        (result,) = export.benchmark_tflite(ctx.path("export", name), threads=(settings.threads,),
                                            xnnpack=(True,), num_runs=settings.runs)
        latency[name] = {"p50_ms": result.p50_us / 1000, "p90_ms": result.p90_us / 1000,
                         "threads": result.threads}
    return {"latency": latency}


STAGES = {"teacher": teacher_stage, "distill": distill_stage, "prune": prune_stage, "qat": qat_stage,
          "export": export_stage, "evaluate": evaluate_stage, "benchmark": benchmark_stage}
