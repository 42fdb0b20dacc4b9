"""Training speed of every step type, each speed lever on and off, against the old code.

Step types (batch 32, Rotten Tomatoes batches bucketed by length as `make_tf_dataset` makes
them, max_length 64, the shipped MiniLM teacher with a fresh 2-class head):
- `teacher`: one teacher fine-tuning step (`logits_model` + AdamW, as `fine_tune_classifier`);
- `distill`: one Distiller step with the pipeline's losses (logit KD T=2 + hard labels x 0.5)
  on the pipeline's student (4 blocks x 6 heads x FFN 384 kept from the teacher);
- `intermediate`: the same with hidden-state MSE and (head-averaged) attention KL added;
- `prune`: the Distiller step on that student wrapped by `prune_student` (the pipeline's
  schedule, 50%);
- `qat`: the Distiller step on its QAT copy (`quantize_student(preserve_sparsity=True)`).

Levers (see `tfdistill.training.precision`, `tfdistill.distill.teacher_cache`,
`tfdistill.training.optimization`): `bf16` (mixed bfloat16 models), `cache` (the bf16 teacher's
outputs computed once, fed with the batches: logits, and for `intermediate` also the hidden
states and attention maps), `lazy` (`LazyAdamW`: embedding tables updated only in the
rows a batch reads; without it, `FusedAdamW`, the old code's Keras AdamW in a fused kernel),
`xla` (`jit_compile=True`, `--xla`), `inter1` (one inter-op thread: a worker of its own). The
new code's "off" also has what is not a lever: `FusedAdamW`, `Dropout16` and the XLA-compiled GELU
(`tfdistill.models.bert.bert_layers`), and QAT's `TableQuantizeWrapper`.

Every configuration runs in a worker process: the old code (`--old_code`, a checkout run with
PYTHONPATH set to it), the new code, and the new code with other thread settings. The workers
build and warm up their variants, then take turns: in each round every worker times every
variant over the same batches while the others wait, so a change of machine load hits all of
them alike. The GEMM peak (TensorFlow fp32 and bf16 matmul, 1 and 2 threads) is measured in
subprocesses before and after. The machine is shared: read the ratios, not the absolute times.

Example:
    python bench/training_throughput.py                       # about 10 min on 2 quiet cores
    python bench/training_throughput.py --step_types=teacher,distill --rounds=2 --xla
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

flags.DEFINE_list("step_types", ["teacher", "distill", "intermediate", "prune", "qat"], "Step types to time.")
flags.DEFINE_integer("batches", 5, "Training batches per round (each variant runs each once per round).")
flags.DEFINE_integer("rounds", 3, "Interleaved rounds; medians are reported.")
flags.DEFINE_integer("batch_size", 32, "Batch size.")
flags.DEFINE_integer("max_length", 64, "Tokenized length (batches are trimmed to their longest row).")
flags.DEFINE_string("old_code", "/tmp/base", "A checkout of the old code (empty: not measured).")
flags.DEFINE_bool("xla", False, "Also time jit_compile variants (XLA compiles once per batch shape: slow).")
flags.DEFINE_bool("threads", True, "Also time the new defaults with one inter-op thread (own worker).")
flags.DEFINE_integer("cache_examples", 1024, "Examples the one-time teacher pass is timed on, per round.")
flags.DEFINE_string("json_output", None, "Also write the results here.")
# Internal: worker processes.
flags.DEFINE_string("worker", None, "Run as a worker: old or new.")
flags.DEFINE_string("batches_file", None, "Worker: the .npz of batches.")
flags.DEFINE_integer("inter_op", 0, "Worker: inter-op threads (0: TensorFlow's default).")
flags.DEFINE_integer("gemm_threads", 0, "Run as a GEMM worker with this many threads.")
FLAGS = flags.FLAGS

PIPELINE_LOSSES = [{"loss": "logit_kd", "temperature": 2.0}, {"loss": "hard_label", "weight": 0.5}]
INTERMEDIATE_LOSSES = PIPELINE_LOSSES + [{"loss": "hidden_mse"},
                                         {"loss": "attention", "target": "probs", "head_average": True}]
STUDENT = {"num_layers": 4, "num_heads": 6, "intermediate_size": 384}
# (step type, variant) -> levers on. "off" is every lever off in the new code.
NEW_VARIANTS = {
    "teacher": {"off": (), "bf16": ("bf16",), "bf16+lazy": ("bf16", "lazy")},
    "distill": {"off": (), "cache": ("cache",), "cache+lazy": ("cache", "lazy"), "bf16+cache": ("bf16", "cache"),
                "bf16+cache+lazy": ("bf16", "cache", "lazy")},
    "intermediate": {"off": (), "bf16": ("bf16",), "cache": ("cache",), "cache+lazy": ("cache", "lazy"),
                     "bf16+cache": ("bf16", "cache")},
    "prune": {"off": (), "cache": ("bf16", "cache"), "cache+lazy": ("bf16", "cache", "lazy")},
    "qat": {"off": (), "cache": ("bf16", "cache"), "cache+lazy": ("bf16", "cache", "lazy")},
}
# The new code's defaults (the distilled student trains in float32 unless asked; LazyAdamW is opt-in).
# Cached teacher outputs are always the bf16 teacher's, as under the default `auto` precision.
DEFAULTS = {"teacher": "bf16", "distill": "cache", "intermediate": "cache", "prune": "cache", "qat": "cache"}


# ---------------------------------------------------------------- batches (no TensorFlow)

def make_batches(count, batch_size, max_length, seed=0):
    """Returns `count` bucketed training batches spanning the epoch's widths (numpy), as
    `make_tf_dataset(shuffle=True)` builds them: pools of 32 batches sorted by length, each
    batch trimmed to its longest row rounded up to 8."""
    import tfdistill

    data = tfdistill.datasets.load("rotten_tomatoes")
    tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
    features = tokenizer(data.train.texts, None, max_length=max_length)
    labels = np.asarray(data.train.labels, np.int32)
    order = np.random.default_rng(seed).permutation(len(labels))
    lengths = features["attention_mask"].sum(axis=1)
    batches = []
    for pool in np.array_split(order, max(1, len(order) // (batch_size * 32))):
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        batches += [pool[i:i + batch_size] for i in range(0, len(pool) - batch_size + 1, batch_size)]
    widths = [min(-(-lengths[b].max() // 8) * 8, max_length) for b in batches]
    # Batches at evenly spaced quantiles of the width: the epoch's mix of shapes.
    picked = np.argsort(widths, kind="stable")[np.linspace(0, len(batches) - 1, count).astype(int)]
    out = {}
    for i, index in enumerate(picked):
        rows, width = batches[index], widths[index]
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            out[f"{i}/{name}"] = features[name][rows, :width].astype(np.int32)
        out[f"{i}/labels"] = labels[rows]
    return out, float(np.mean([widths[i] for i in picked])), float(np.mean(widths))


def load_batches(path):
    stored = np.load(path)
    count = len({key.split("/")[0] for key in stored.files})
    return [({name: stored[f"{i}/{name}"] for name in ("input_ids", "attention_mask", "token_type_ids")},
             stored[f"{i}/labels"]) for i in range(count)]


# ---------------------------------------------------------------- GEMM peak worker

def gemm_worker(threads):
    """Prints the best fp32 and bf16 TensorFlow matmul rates (GFLOP/s) on `threads` threads."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    n, rates = 2048, {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal((n, n), dtype=tf.float32)
        a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)
        matmul = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[:1, :1], tf.float32)))
        matmul(a, b).numpy()
        best = 0.0
        for _ in range(3):
            start, reps = time.perf_counter(), 4
            for _ in range(reps):
                matmul(a, b).numpy()
            best = max(best, reps * 2 * n ** 3 / (time.perf_counter() - start) / 1e9)
        rates[dtype.name] = best
    print(json.dumps(rates))


def measure_gemm():
    """Returns `{threads: {"float32": GFLOP/s, "bfloat16": GFLOP/s}}` for 1 and 2 threads."""
    result = {}
    for threads in (1, 2):
        out = subprocess.run([sys.executable, __file__, f"--gemm_threads={threads}"], capture_output=True,
                             text=True, check=True, env=_env(None))
        result[threads] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- training worker

class Variant:
    """One compiled model stepping through the batches with `train_function`, as `fit` does."""

    def __init__(self, model, batches, cached=None, callbacks=()):
        import tensorflow as tf

        self.model, self.callbacks = model, list(callbacks)
        spec = {name: tf.TensorSpec([None, None], tf.int32) for name in batches[0][0]}
        for name, value in (cached[0] if cached else {}).items():
            spec[name] = _cached_spec(name, value)

        def generate():
            while True:
                for i, (features, labels) in enumerate(batches):
                    yield (dict(features, **cached[i]) if cached else features), labels

        dataset = tf.data.Dataset.from_generator(
            generate, output_signature=(spec, tf.TensorSpec([None], tf.int32))).prefetch(2)
        self.iterator = iter(dataset)
        self.function = model.make_train_function()
        for callback in self.callbacks:
            callback.set_model(model)
            callback.on_train_begin()

    def run(self, steps):
        start = time.perf_counter()
        for step in range(steps):
            for callback in self.callbacks:
                callback.on_train_batch_begin(step)
            logs = self.function(self.iterator)
        float(logs["loss"])
        return (time.perf_counter() - start) / steps


def _cached_spec(name, value):
    """The `TensorSpec` of a cached teacher feature (`teacher_cache.pack`): batch and width vary."""
    import tensorflow as tf

    if name == "teacher_logits":
        shape = [None, *value.shape[1:]]
    elif name == "teacher_hidden_states":  # [batch, seq, layers + 1, hidden]
        shape = [None, None, *value.shape[2:]]
    else:  # attention maps [batch, layers, heads, seq, seq]
        shape = [None, *value.shape[1:3], None, None]
    return tf.TensorSpec(shape, tf.as_dtype(value.dtype))


def _models(new):
    """Loads the teacher and builds the students every variant shares."""
    import tfdistill
    from tfdistill import compress
    from tfdistill.distill import student_from_teacher

    path = tfdistill.default_teacher_path()
    models = {name: tfdistill.load_pretrained(path, num_labels=2) for name in ("finetune", "teacher")}
    # Weight-norm importance: which heads are kept does not change the cost.
    models["student"] = student_from_teacher(models["teacher"], **STUDENT)
    tokenizer = tfdistill.Tokenizer.from_pretrained(path)
    data = tfdistill.datasets.load("rotten_tomatoes")
    # What compress.training_token_ids returns, written out: its signature differs in the old code.
    used = np.unique(tokenizer(data.train.texts, max_length=FLAGS.max_length)["input_ids"])
    config = compress.PruningConfig.for_steps(-(-len(data.train) // FLAGS.batch_size), target_sparsity=0.5)
    models["prune"] = compress.prune_student(models["student"], config, used_token_ids=used)
    models["qat"] = compress.quantize_student(models["student"], preserve_sparsity=True)
    if new:
        from tfdistill.training import precision

        for name in ("finetune", "teacher", "student"):
            models[f"{name}_bf16"] = precision.mixed_twin(models[name], precision.MIXED)
    return models


def _compile_variant(step_type, levers, models, batches, jit, new):
    import tf_keras as keras
    from tfdistill.distill import Distiller
    from tfdistill.models.bert.bert_model import logits_model
    from tfdistill.training import optimization

    bf16 = "bf16" in levers
    # The old code's `adamw` has no `lazy` (it is Keras' AdamW).
    optimizer_options = {"lazy": "lazy" in levers} if new else {}
    if step_type == "teacher":
        model = logits_model(models["finetune_bf16" if bf16 else "finetune"])
        model.compile(optimizer=optimization.adamw(5e-5, 1000, **optimizer_options),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      jit_compile=jit)
        return Variant(model, batches)
    student = {"prune": "prune", "qat": "qat"}.get(step_type, "student_bf16" if bf16 else "student")
    losses = INTERMEDIATE_LOSSES if step_type == "intermediate" else PIPELINE_LOSSES
    model = Distiller(student=models[student], teacher=models["teacher_bf16" if bf16 else "teacher"], losses=losses)
    model.compile(optimizer=optimization.adamw(2e-4, 1000, **optimizer_options), jit_compile=jit)
    callbacks = []
    if step_type == "prune":
        from tfdistill import compress

        callbacks = compress.pruning_callbacks()
    return Variant(model, batches, _cached_outputs(step_type, models, batches) if "cache" in levers else None,
                   callbacks)


def _cached_outputs(step_type, models, batches):
    """Each batch's teacher outputs as the training pipeline feeds them (`teacher_cache`): the
    bf16 teacher's (the default precision), the logits, and for `intermediate` the hidden states
    and attention maps too."""
    from tfdistill.distill import teacher_cache

    keys = ("logits", "hidden_states", "attentions") if step_type == "intermediate" else ("logits",)
    return [{name: value.numpy() for name, value in
             teacher_cache.pack(models["teacher_bf16"](features, training=False), keys).items()}
            for features, _ in batches]


def _variant_plan(new):
    plan = []
    for step_type in FLAGS.step_types:
        if not new:
            plan.append((step_type, "old", ()))
            continue
        for name, levers in NEW_VARIANTS[step_type].items():
            if FLAGS.inter_op and name != DEFAULTS[step_type]:
                continue
            plan.append((step_type, name, levers))
        if FLAGS.xla and step_type in ("teacher", "distill") and not FLAGS.inter_op:
            levers = NEW_VARIANTS[step_type][DEFAULTS[step_type]]
            plan.append((step_type, DEFAULTS[step_type] + "+xla", levers + ("xla",)))
    if FLAGS.inter_op:
        plan = [(t, n + "+inter1", levers) for t, n, levers in plan if t in ("teacher", "distill")]
    return plan


def _flops(models, batches):
    from tfdistill.export.flops import bert_flops

    def forward(config):
        return float(np.mean([len(labels) * bert_flops(config, f["input_ids"].shape[1]) for f, labels in batches]))

    return {"teacher": forward(models["teacher"].bert_config), "student": forward(models["student"].bert_config)}


def training_worker(new):
    """Builds, warms up and then times this code's variants, one round per "round" line on stdin."""
    import tensorflow as tf

    if FLAGS.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op)
    batches = load_batches(FLAGS.batches_file)
    start = time.perf_counter()
    models = _models(new)
    variants = {}
    for step_type, name, levers in _variant_plan(new):
        variants[f"{step_type}/{name}"] = _compile_variant(step_type, levers, models, batches,
                                                           "xla" in levers, new)
        variants[f"{step_type}/{name}"].run(len(batches))  # trace and warm up every shape
    cache_pass = CachePass(models) if new and not FLAGS.inter_op else None
    print(json.dumps({"ready": True, "setup_seconds": time.perf_counter() - start, "flops": _flops(models, batches),
                      "variants": {key: list(levers) for (t, n, levers), key in
                                   zip(_variant_plan(new), variants)}}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] != "round":
            break
        times = {key: variant.run(len(batches)) for key, variant in variants.items()
                 if key.split("/")[0] == command[1]}
        if cache_pass is not None and command[1] == "cache":
            times.update(cache_pass())
        print(json.dumps(times), flush=True)
    # Skips interpreter shutdown, which can hang on the tf.data generator threads.
    os._exit(0)


class CachePass:
    """Times the one-time teacher pass (`TeacherOutputs`, bf16 teacher) per example, on examples
    the warm-up did not see: the logits, and the logits, hidden states and attention maps that
    `intermediate` reads. Its fixed cost (building a pipeline, ~1 s) is included, so this
    overstates what a whole training split costs per example."""

    KEYS = {"cache_pass_per_example": ("logits",),
            "cache_pass_intermediate_per_example": ("logits", "hidden_states", "attentions")}

    def __init__(self, models):
        import tfdistill
        from tfdistill.distill import teacher_cache

        path, n = tfdistill.default_teacher_path(), FLAGS.cache_examples
        train = tfdistill.datasets.load("rotten_tomatoes").train
        self.warm, self.split = train.take(range(256)), train.take(range(256, 256 + n))
        preprocessor = tfdistill.TextClassifierPreprocessor(tfdistill.Tokenizer.from_pretrained(path), FLAGS.max_length)
        self.runs = {name: teacher_cache.TeacherOutputs(models["teacher_bf16"], preprocessor, keys)
                     for name, keys in self.KEYS.items()}
        for run in self.runs.values():
            run(self.warm)  # trace

    def __call__(self):
        seconds = {}
        for name, run in self.runs.items():
            start = time.perf_counter()
            run(self.split)
            seconds[name] = (time.perf_counter() - start) / len(self.split)
        return seconds


# ---------------------------------------------------------------- orchestration

def _env(pythonpath):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


class Worker:
    """A training worker process driven over stdin/stdout."""

    def __init__(self, label, code, batches_file, inter_op=0, pythonpath=None):
        args = [sys.executable, __file__, f"--worker={code}", f"--batches_file={batches_file}",
                f"--inter_op={inter_op}", f"--step_types={','.join(FLAGS.step_types)}", f"--xla={FLAGS.xla}",
                f"--batch_size={FLAGS.batch_size}", f"--max_length={FLAGS.max_length}",
                f"--cache_examples={FLAGS.cache_examples}"]
        self.label = label
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        env=_env(pythonpath), cwd=os.path.dirname(os.path.abspath(__file__)))
        self.info = self._read()

    def _read(self):
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"Worker {self.label} ended without a result (exit {self.process.wait()}).")

    def round(self, step_type):
        self.process.stdin.write(f"round {step_type}\n")
        self.process.stdin.flush()
        return self._read()

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def orchestrate():
    """Starts the workers one after another (setup is heavy), then runs interleaved rounds."""
    gemm_before = measure_gemm()
    print(f"GEMM peak before ({_load()}): {gemm_before}", flush=True)
    batches, mean_width, epoch_width = make_batches(FLAGS.batches, FLAGS.batch_size, FLAGS.max_length)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "batches.npz")
        np.savez(path, **batches)
        specs = [("new", "new", 0, None)]
        if FLAGS.old_code:
            specs.insert(0, ("old", "old", 0, os.path.abspath(FLAGS.old_code)))
        if FLAGS.threads:
            specs.append(("new inter_op=1", "new", 1, None))
        workers = []
        for label, code, inter_op, pythonpath in specs:
            workers.append(Worker(label, code, path, inter_op, pythonpath))
            print(f"worker {label}: ready in {workers[-1].info['setup_seconds']:.0f} s ({_load()})", flush=True)
        rounds = []
        for index in range(FLAGS.rounds):
            times = {}
            # Step type by step type, so the variants compared sit seconds apart; the workers'
            # order alternates between rounds, so none always runs first.
            for step_type in [*FLAGS.step_types, "cache"]:
                for worker in workers[::1 if index % 2 == 0 else -1]:
                    times.update({(worker.label, key): value for key, value in worker.round(step_type).items()})
            rounds.append(times)
            print(f"round {index + 1}/{FLAGS.rounds} done ({_load()})", flush=True)
        for worker in workers:
            worker.close()
    gemm_after = measure_gemm()
    print(f"GEMM peak after ({_load()}): {gemm_after}", flush=True)
    gemm = {t: {d: max(gemm_before[t][d], gemm_after[t][d]) for d in gemm_before[t]} for t in gemm_before}
    return report(workers, rounds, gemm, mean_width, epoch_width)


def _median_ratio(rounds, numerator, denominator):
    values = [r[numerator] / r[denominator] for r in rounds if numerator in r and denominator in r]
    return float(np.median(values)) if values else float("nan")


def _step_flops(step_type, levers, flops):
    if step_type == "teacher":
        return 3 * flops["teacher"]
    return 3 * flops["student"] + (0 if "cache" in levers else flops["teacher"])


def report(workers, rounds, gemm, mean_width, epoch_width):
    """Prints the per-variant table and the summary of ratios; returns the rows."""
    flops = next(w.info["flops"] for w in workers if w.label == "new")
    print(f"\nbatch {FLAGS.batch_size}, max_length {FLAGS.max_length}, {FLAGS.batches} batches of mean width "
          f"{mean_width:.1f} (the epoch's mean: {epoch_width:.1f}), {FLAGS.rounds} interleaved rounds; "
          f"forward GFLOP per batch: teacher {flops['teacher'] / 1e9:.1f}, student {flops['student'] / 1e9:.1f}")
    print("GEMM peak GFLOP/s (TensorFlow matmul 2048^3): " + ", ".join(
        f"{t} thread{'s' if t > 1 else ''} fp32 {g['float32']:.0f} / bf16 {g['bfloat16']:.0f}"
        for t, g in gemm.items()))
    header = (f"{'step':13s} {'code / levers':26s} {'ms/step':>8s} {'steps/s':>8s} {'GFLOP':>6s} {'GFLOP/s':>8s} "
              f"{'% peak':>7s} {'vs old':>7s} {'vs off':>7s}")
    print(header + "\n" + "-" * len(header))
    rows = []
    for step_type in FLAGS.step_types:
        for worker in workers:
            for key, levers in worker.info["variants"].items():
                if not key.startswith(step_type + "/"):
                    continue
                rows.append(_row(worker, key, levers, step_type, rounds, flops, gemm))
    _print_summary(rows, rounds, workers)
    return rows


def _row(worker, key, levers, step_type, rounds, flops, gemm):
    seconds = float(np.median([r[(worker.label, key)] for r in rounds]))
    step_flops = _step_flops(step_type, levers, flops)
    peak = gemm[2]["bfloat16" if "bf16" in levers and step_type in ("teacher", "distill", "intermediate")
                   else "float32"]
    old = ("old", f"{step_type}/old")
    off = ("new", f"{step_type}/off")
    vs_old = _median_ratio(rounds, old, (worker.label, key))
    vs_off = _median_ratio(rounds, off, (worker.label, key))
    name = f"{worker.label}: {key.split('/', 1)[1]}" if worker.label != "old" else "old code (7fb5722)"
    rate = step_flops / seconds / 1e9
    print(f"{step_type:13s} {name:26s} {seconds * 1e3:8.0f} {1 / seconds:8.2f} {step_flops / 1e9:6.1f} "
          f"{rate:8.1f} {100 * rate / peak:6.0f}% {vs_old:6.2f}x {vs_off:6.2f}x")
    return {"step_type": step_type, "worker": worker.label, "variant": key, "levers": levers,
            "ms_per_step": seconds * 1e3, "gflop_per_step": step_flops / 1e9, "gflops": rate,
            "peak_share": rate / peak, "vs_old": vs_old, "vs_off": vs_off}


def _print_summary(rows, rounds, workers):
    def pass_seconds(name):  # the one-time teacher pass, seconds per example (median of rounds)
        values = [r[("new", name)] for r in rounds if ("new", name) in r]
        return float(np.median(values)) if values else None

    print("\nSummary: new defaults vs the old code (median of per-round ratios; >= 2x is the goal)")
    for step_type in FLAGS.step_types:
        key = ("new", f"{step_type}/{DEFAULTS[step_type]}")
        ratio = _median_ratio(rounds, ("old", f"{step_type}/old"), key)
        line = f"  {step_type:13s} {DEFAULTS[step_type]:12s} {ratio:5.2f}x"
        cache = pass_seconds("cache_pass_intermediate_per_example" if step_type == "intermediate"
                             else "cache_pass_per_example")
        if "cache" in DEFAULTS[step_type] and cache:
            # The one-time teacher pass, spread over one epoch of 32-example steps.
            per_step = cache * FLAGS.batch_size
            step = float(np.median([r[key] for r in rounds]))
            old = float(np.median([r[("old", f"{step_type}/old")] for r in rounds])) if \
                ("old", f"{step_type}/old") in rounds[0] else float("nan")
            # Paid by one epoch, or shared by the pipeline's distill (2), prune (1) and qat (1) epochs.
            line += (f"   with the teacher pass: {old / (step + per_step):5.2f}x over 1 epoch, "
                     f"{old / (step + per_step / 4):5.2f}x over 4")
        print(line)
    for name, what in (("cache_pass_per_example", "logits"),
                       ("cache_pass_intermediate_per_example", "logits, hidden states, attention maps")):
        if pass_seconds(name):
            print(f"  one-time teacher pass (bf16, length-sorted batches of 128; {what}): "
                  f"{pass_seconds(name) * 1e3:.2f} ms per example, "
                  f"{pass_seconds(name) * FLAGS.batch_size * 1e3:.0f} ms per batch of training data")


def main(argv):
    del argv
    if FLAGS.gemm_threads:
        return gemm_worker(FLAGS.gemm_threads)
    if FLAGS.worker:
        sys.path.insert(0, os.environ.get("PYTHONPATH") or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return training_worker(FLAGS.worker == "new")
    rows = orchestrate()
    if FLAGS.json_output:
        with open(FLAGS.json_output, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    app.run(main)
