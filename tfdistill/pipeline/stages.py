"""The pipeline's stages. Each takes the run context and its stage folder (a temporary folder
that is published only when the stage returns) and returns the JSON outputs of its manifest."""

import os

import tfdistill
from tfdistill.models.bert.checkpoint import write_pretrained_files
from tfdistill.training import evaluation, finetune

ORDER = ("teacher", "distill", "prune", "qat", "export", "evaluate", "benchmark")
OPTIONAL = ("prune", "qat")


def _accuracies(model, ctx):
    """`{"validation_accuracy": ..., "accuracy": <test>}`: the report chooses on the first."""
    return {key: evaluation.accuracy(model, ctx.tokenizer, getattr(ctx.data, split), ctx.values.max_length)
            for key, split in (("validation_accuracy", "validation"), ("accuracy", "test"))}


def _model_summary(model, ctx, path):
    total, non_embedding = finetune.count_params(model)
    return {"path": path, "params": total, "non_embedding_params": non_embedding, **_accuracies(model, ctx)}


def _save(model, folder, ctx):
    """Writes an HF folder `model/` in the stage folder; returns its path relative to it."""
    os.makedirs(os.path.join(folder, "model"))
    write_pretrained_files(model, os.path.join(folder, "model"), ctx.tokenizer)
    return "model"


def teacher_stage(ctx, folder):
    """Fine-tunes the base model (or takes --teacher as given) and measures it."""
    values = ctx.values
    if values.teacher:
        from tfdistill.training.classifier import load_classifier

        # Checks its head and class names against the data (already in its order: recipes/pipeline.py).
        teacher = load_classifier(values.teacher, ctx.data, role="teacher")
        return _model_summary(teacher, ctx, os.path.abspath(values.teacher))
    teacher = tfdistill.load_pretrained(ctx.base_model, num_labels=ctx.data.num_classes)
    teacher.bert_config = teacher.bert_config.replace(label_names=tuple(ctx.data.label_names))
    finetune.fine_tune_classifier(teacher, ctx.tokenizer, ctx.data, max_length=values.max_length,
                                  epochs=values.teacher_epochs, learning_rate=values.teacher_learning_rate,
                                  seed=values.seed)
    return _model_summary(teacher, ctx, _save(teacher, folder, ctx))


def distill_stage(ctx, folder):
    """Builds the student from the teacher and distils it."""
    from tfdistill.cli import distill_flags
    from tfdistill.distill.training import distill

    values = ctx.values
    teacher = ctx.model("teacher")
    student = distill_flags.student_from_flags(teacher, values, ctx.tokenizer, ctx.data.train)
    distill(teacher, student, ctx.tokenizer, ctx.data, losses=distill_flags.losses_from_flags(values),
            max_length=values.max_length, epochs=values.epochs, intermediate_epochs=values.intermediate_epochs,
            learning_rate=values.learning_rate, augment=values.augment, seed=values.seed, backup_dir=ctx.backup_dir)
    return _model_summary(student, ctx, _save(student, folder, ctx))


def _train_steps(ctx, epochs):
    return epochs * -(-len(ctx.data.train) // 32)


def prune_stage(ctx, folder):
    """Prunes the distilled student while the teacher keeps guiding it, then strips the wrappers."""
    from tfdistill import compress

    values = ctx.values
    config = compress.PruningConfig.for_steps(_train_steps(ctx, values.prune_epochs),
                                              target_sparsity=values.target_sparsity)
    # Embedding rows of tokens the training data never uses are pruned first (they cost nothing).
    used = compress.training_token_ids(ctx.tokenizer, ctx.data.train, values.max_length)
    pruned = compress.prune_student(ctx.model("distill"), config, used_token_ids=used)
    compress.fit_student(pruned, ctx.tokenizer, ctx.data, teacher=ctx.model("teacher"), epochs=values.prune_epochs,
                         max_length=values.max_length, seed=values.seed, backup_dir=ctx.backup_dir)
    student = compress.strip_student(pruned)
    summary = _model_summary(student, ctx, _save(student, folder, ctx))
    summary["sparsity"] = compress.overall_sparsity(compress.weight_sparsity(student))
    return summary


def qat_stage(ctx, folder):
    """Quantization-aware training of the (pruned) student, ranges calibrated first."""
    from tfdistill import compress
    from tfdistill.data.pipeline import make_tf_dataset

    values = ctx.values
    source = values.qat_source if ctx.ran(values.qat_source) else "distill"
    student = ctx.model(source)
    qat = compress.quantize_student(student, preserve_sparsity=source == "prune")
    calibration = make_tf_dataset(ctx.data.train, ctx.tokenizer, values.max_length, 32, shuffle=True,
                                  seed=values.seed)
    compress.calibrate_ranges(qat, calibration, steps=values.calibration_steps)
    compress.fit_student(qat, ctx.tokenizer, ctx.data, teacher=ctx.model("teacher"), epochs=values.qat_epochs,
                         max_length=values.max_length, learning_rate=values.qat_learning_rate, seed=values.seed,
                         backup_dir=ctx.backup_dir)
    compress.save_quantized(qat, os.path.join(folder, "qat_model.h5"))
    return {"path": "qat_model.h5", "source": source, **_accuracies(qat, ctx), "params": student.count_params(),
            "sparsity": compress.overall_sparsity(compress.weight_sparsity(student))}


def export_plan(ctx):
    """Returns `[(package_name, stage, mode)]`: the teacher in fp32, the student in every mode."""
    plan = [("teacher_float32", "teacher", "float32")]
    plan += [(f"distill_{mode}", "distill", mode) for mode in ("float32", "float16", "dynamic", "int8")]
    if ctx.ran("prune"):
        plan += [("prune_dynamic", "prune", "dynamic"), ("prune_int8", "prune", "int8")]
    if ctx.ran("qat"):
        plan.append(("qat_qat", "qat", "qat"))
    return plan


def export_stage(ctx, folder):
    """Exports every model of `export_plan` as a validated model package.

    A mode whose `.tflite` disagrees with its Keras model is refused (nothing written) and
    recorded with the reason; the other modes go on.
    """
    from tfdistill import export

    packages, refused = {}, {}
    for name, stage, mode in export_plan(ctx):
        try:
            result = export.export_tflite(
                ctx.model(stage), os.path.join(folder, name), mode, ctx.values.max_length, ctx.tokenizer,
                ctx.data.train, ctx.data.validation, None, labels=ctx.data.label_names, source=stage,
                num_representative=ctx.values.num_representative)
        except export.ExportValidationError as error:
            print(f"   {name}: refused: {error}", flush=True)
            refused[name] = {"stage": stage, "mode": mode, "reason": str(error)}
            continue
        packages[name] = {"stage": stage, "mode": mode, "path": name,
                          "agreement": result.card.get("validation", {}).get("agreement")}
    return {"packages": packages, "refused": refused}


def evaluate_stage(ctx, folder):
    """Accuracy of every exported `.tflite` on the validation split (what the report chooses the
    shipped student by) and the test split (what it reports), through the LiteRT interpreter, and
    of every MediaPipe-ready package through MediaPipe's TextClassifier (one subprocess)."""
    from tfdistill import export
    from tfdistill.export.mediapipe_eval import evaluate_mediapipe

    accuracy, validation_accuracy, logits = {}, {}, {}
    for name in ctx.outputs("export")["packages"]:
        path = ctx.path("export", name)
        validation_accuracy[name] = export.evaluate_tflite(path, ctx.tokenizer, ctx.data.validation,
                                                           label_names=ctx.data.label_names).accuracy
        result = export.evaluate_tflite(path, ctx.tokenizer, ctx.data.test, label_names=ctx.data.label_names)
        accuracy[name], logits[name] = result.accuracy, result.logits
    folders = {name: ctx.path("export", name) for name in accuracy}
    mediapipe = evaluate_mediapipe(folders, ctx.tokenizer, ctx.data.test, litert_logits=logits,
                                   label_names=ctx.data.label_names)
    if "skipped" in mediapipe:
        print(f"   MediaPipe accuracy not measured: {mediapipe['skipped']}", flush=True)
    return {"accuracy": accuracy, "validation_accuracy": validation_accuracy, "mediapipe": mediapipe}


def benchmark_stage(ctx, folder):
    """Latency of every `.tflite` (XNNPACK, `--benchmark_threads`), like `benchmark_model`."""
    from tfdistill import export

    latency = {}
    for name in ctx.outputs("export")["packages"]:
        (result,) = export.benchmark_tflite(ctx.path("export", name), threads=(ctx.values.benchmark_threads,),
                                            xnnpack=(True,), num_runs=ctx.values.benchmark_runs)
        latency[name] = {"p50_ms": result.p50_us / 1000, "p90_ms": result.p90_us / 1000,
                         "threads": result.threads}
    return {"latency": latency}


STAGES = {"teacher": teacher_stage, "distill": distill_stage, "prune": prune_stage, "qat": qat_stage,
          "export": export_stage, "evaluate": evaluate_stage, "benchmark": benchmark_stage}
