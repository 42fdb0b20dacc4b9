"""The sections of a run config: data, teacher, student, losses and each training stage.

Defaults are the recipes' flag defaults (`recipes/distill.py`, `recipes/pipeline.py`); the
pipeline's presets (`tfdistill.config.presets`) start from them.
"""

import dataclasses
import math

from tfdistill.config.base import Config, ConfigError, check

# Mirrors of the lower layers' choices (the config imports nothing of theirs; tests keep them equal).
EMBEDDING_INITS = ("auto", "copy", "pca", "random")  # tfdistill.distill.student.EMBEDDING_INITS
LAYER_MAP_STRATEGIES = ("uniform", "last")  # tfdistill.distill.layer_map.STRATEGIES
MIXED_PRECISION_MODES = ("auto", "bfloat16", "float32")  # tfdistill.training.precision.MODES
# What int8 covers, for the export and for QAT: what XNNPACK runs in int8 in one partition, or every op.
INT8_SCOPES = ("xnnpack", "full")
QAT_SOURCES = ("distill", "prune")
VOCABULARIES = ("full", "used", "both")  # what an exported student's word table keeps
STUDENT_EXPORT_MODES = ("float32", "float16", "dynamic", "int8")  # tfdistill.export modes, QAT's aside


def _at_least(section, name, minimum, optional=False):
    value = getattr(section, name)
    if optional and value is None:
        return
    check(value >= minimum, section.dotted(name), value,
          f"must be >= {minimum}{' (or null for the default)' if optional else ''}.")


def _positive(section, name):
    value = getattr(section, name)
    check(math.isfinite(value) and value > 0, section.dotted(name), value, "must be a finite number > 0.")


def _one_of(section, name, choices):
    value = getattr(section, name)
    check(value in choices, section.dotted(name), value, f"must be one of {list(choices)}.")


@dataclasses.dataclass(frozen=True)
class DataConfig(Config):
    """The dataset and how it is tokenized (`tfdistill.datasets.load` and the tokenizer).

    Attributes:
        dataset: built-in (`rotten_tomatoes`, the default when no train_file is given) or
            `tfds:<name>`.
        train_file, validation_file, test_file: .csv/.tsv/.jsonl files; missing splits are
            carved from train.
        text_column, label_column, text_pair_column: the columns (or TFDS features).
        data_dir: the TFDS data folder.
        max_examples: cap on the examples kept in each split.
        max_length: tokenized length (special tokens included); also the exported seq_len.
    """

    SECTION = "data"
    dataset: str | None = None
    train_file: str | None = None
    validation_file: str | None = None
    test_file: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str | None = None
    data_dir: str | None = None
    max_examples: int | None = None
    max_length: int = 64

    def validate(self):
        for name in ("text_column", "label_column"):
            check(getattr(self, name) != "", self.dotted(name), "''", "must name a column.")
        _at_least(self, "max_examples", 1, optional=True)
        _at_least(self, "max_length", 2)  # [CLS] and [SEP]


class _StepBudget:
    """A training section's `epochs`, raised on small data to reach its `min_steps`."""

    def epochs_for(self, num_examples):
        """The epochs to train on `num_examples`: `epochs`, or more when they would run fewer than
        `min_steps` steps (small datasets need steps to converge, not a number of passes).

        Example:
        >>> TeacherConfig().epochs_for(10242)  # Rotten Tomatoes: 2 epochs are 642 steps
        2
        >>> TeacherConfig().epochs_for(590)  # 19 steps an epoch
        32
        """
        steps_per_epoch = max(1, -(-num_examples // self.batch_size))
        return max(self.epochs, -(-self.min_steps // steps_per_epoch))


@dataclasses.dataclass(frozen=True)
class TeacherConfig(Config, _StepBudget):
    """The teacher: an existing fine-tuned one, or `base_model` fine-tuned on the data.

    Attributes:
        path: a fine-tuned teacher folder (then nothing is fine-tuned), or None.
        base_model: the folder fine-tuned into the teacher (None: the shipped MiniLM).
        epochs, learning_rate, batch_size: the fine-tuning (AdamW peak learning rate).
        min_steps: the fewest training steps; small data gets more epochs (`epochs_for`).
    """

    SECTION = "teacher"
    path: str | None = None
    base_model: str | None = None
    epochs: int = 2
    learning_rate: float = 5e-5
    batch_size: int = 32
    # The default preset's budget on Rotten Tomatoes (2 epochs of 321 steps), so that data keeps its
    # epochs and smaller data is not left with a few dozen steps.
    min_steps: int = 600

    def validate(self):
        _at_least(self, "epochs", 1)
        _at_least(self, "min_steps", 0)
        _positive(self, "learning_rate")
        _at_least(self, "batch_size", 1)


@dataclasses.dataclass(frozen=True)
class StudentConfig(Config):
    """The student's shape and how it is initialised from the teacher
    (`tfdistill.distill.student_from_teacher`). None means the teacher's value where the
    student keeps the teacher's width (see `student_config` there).

    The defaults are `recipes/distill.py`'s: 4 blocks of the teacher's shape. The pipeline's
    default student is the `4x6x384` preset (`tfdistill.config.presets`).

    Attributes:
        layers: transformer blocks.
        hidden: width.
        heads: attention heads.
        intermediate: feed-forward width.
        head_size: width of one head.
        importance_examples: training examples that score the teacher's heads and units.
        embedding_init: `auto` (copy at the teacher's width, else PCA), `copy`, `pca`, `random`.
        layer_map: which teacher block each student block starts from and, in the hidden-state
            and attention losses, learns from: `uniform`, `last`, or `"2,4,6"`.
        init: a general-distilled student folder (`tfdistill general_distill`) to start from
            instead of building one from the teacher; its shape replaces the fields above.
        embedding_size: the rank of a factorised word table (a `vocab x embedding_size` table
            times a projection to the width, from the SVD of the initial table), trained as
            such; None: a full table. At most the width.
    """

    SECTION = "student"
    layers: int = 4
    hidden: int | None = None
    heads: int | None = None
    intermediate: int | None = None
    head_size: int | None = None
    importance_examples: int = 512
    embedding_init: str = "auto"
    layer_map: str = "uniform"
    init: str | None = None
    embedding_size: int | None = None

    def validate(self):
        check(self.init != "", self.dotted("init"), "''", "must name a folder (or be null: build from the teacher).")
        check(not (self.init and self.embedding_size), self.dotted("embedding_size"), self.embedding_size,
              "does not apply to a student.init folder, which has its own word table; set one of the two.")
        _at_least(self, "layers", 1)
        for name in ("hidden", "heads", "intermediate", "head_size", "embedding_size"):
            _at_least(self, name, 1, optional=True)
        _at_least(self, "importance_examples", 1)
        _one_of(self, "embedding_init", EMBEDDING_INITS)
        if self.layer_map not in LAYER_MAP_STRATEGIES:
            parts = self.layer_map.split(",")
            check(all(part.strip().isdigit() for part in parts), self.dotted("layer_map"), self.layer_map,
                  f"must be one of {list(LAYER_MAP_STRATEGIES)} or teacher layer numbers like '2,4,6'.")


# The student fields a ladder rung sets (its shape); the others come from the `student` section.
SHAPE_FIELDS = ("layers", "hidden", "heads", "intermediate", "head_size")


@dataclasses.dataclass(frozen=True)
class LadderConfig(Config):
    """The retention target and the student shapes the pipeline chooses among
    (`tfdistill.pipeline.ladder`).

    With `target_retention` above 0, the distill stage distils students of the `students` shapes
    (smallest first, each a student preset name or `LAYERSxHEADSxFFN`, e.g. `3x4x384`) and keeps
    the smallest whose validation accuracy, less `margin_standard_errors` standard errors of it,
    is at least `target_retention` times the teacher's (so that a rung does not pass on
    validation noise alone); when none is, the one with the best validation accuracy, with a
    note. It starts at `start`
    (None: the smallest) and steps down while the target is met, up while it is not, so a rung
    whose neighbours decide it is not trained (it assumes accuracy does not fall as a student
    grows). Each rung
    takes its shape from its preset and the rest (importance examples, embedding
    initialisation, layer map) from the `student` section. With `target_retention=0` the
    `student` section is the one student.

    Attributes:
        target_retention: in [0, 1]; 0 switches the ladder off.
        margin_standard_errors: how many standard errors (`sqrt(p (1 - p) / n)` of the rung's
            validation accuracy p on n examples) the rung must clear the target by; 0 compares
            the accuracy itself.
        students: the shapes, smallest first.
        start: the shape tried first (one of `students`; None: the smallest).
    """

    SECTION = "ladder"
    target_retention: float = 0.98
    # One standard error: on Rotten Tomatoes' 1,281 validation texts about 1.3 points of retention,
    # the size of the validation-to-test differences seen there.
    margin_standard_errors: float = 1.0
    students: tuple[str, ...] = ("2x4x256", "3x4x384", "4x6x384", "5x8x768")
    # The demo's student before the ladder existed: on data like Rotten Tomatoes it decides in 2 rungs.
    start: str | None = "4x6x384"

    def validate(self):
        check(0 <= self.target_retention <= 1, self.dotted("target_retention"), self.target_retention,
              "must be in [0, 1] (0: no ladder, distil the student section's shape).")
        check(self.margin_standard_errors >= 0, self.dotted("margin_standard_errors"), self.margin_standard_errors,
              "must be >= 0.")
        check(len(self.students) > 0, self.dotted("students"), "''", "must name at least one student shape.")
        check(len(set(self.students)) == len(self.students), self.dotted("students"), ",".join(self.students),
              "names a shape twice.")
        check(self.start is None or self.start in self.students, self.dotted("start"), self.start,
              f"must be one of ladder.students {list(self.students)} (or null: the smallest).")

    @property
    def enabled(self):
        return self.target_retention > 0


@dataclasses.dataclass(frozen=True)
class LossConfig(Config):
    """The distillation loss: one weight per term (0 switches it off) and their settings.

    Attributes:
        logit_weight: `logit_kd` (Hinton KL x T^2).
        hard_weight: `hard_label` (cross-entropy on the labels).
        hidden_weight: `hidden_mse` (TinyBERT hidden states).
        embedding_weight: `embedding_mse`.
        attention_weight: `attention` (KL on the attention probabilities).
        relation_weight: `minilm_relation` (MiniLM-v2).
        cosine_weight: `hidden_cosine` (DistilBERT).
        temperature: soft-target temperature of `logit_kd`.
        head_average: average attention maps over heads (the head counts may then differ).
    """

    SECTION = "losses"
    # weight field -> the loss term it switches on (`tfdistill.distill.losses`)
    TERMS = {
        "logit_weight": {"loss": "logit_kd"},
        "hard_weight": {"loss": "hard_label"},
        "hidden_weight": {"loss": "hidden_mse"},
        "embedding_weight": {"loss": "embedding_mse"},
        "attention_weight": {"loss": "attention", "target": "probs"},
        "relation_weight": {"loss": "minilm_relation"},
        "cosine_weight": {"loss": "hidden_cosine"},
    }
    logit_weight: float = 1.0
    hard_weight: float = 0.5
    hidden_weight: float = 0.0
    embedding_weight: float = 0.0
    attention_weight: float = 0.0
    relation_weight: float = 0.0
    cosine_weight: float = 0.0
    temperature: float = 2.0
    head_average: bool = False

    def validate(self):
        for name in self.TERMS:
            weight = getattr(self, name)
            check(math.isfinite(weight), self.dotted(name), weight, "must be a finite number.")
            check(weight >= 0, self.dotted(name), weight, "is negative; loss weights must be >= 0.")
        if not any(getattr(self, name) for name in self.TERMS):
            fields = (self.dotted("logit_weight"), self.dotted("hard_weight"))
            raise ConfigError(f"Every loss weight is 0; set at least {fields[0]} or {fields[1]} above 0.", fields)
        _positive(self, "temperature")

    def terms(self, layer_map="uniform"):
        """Returns the loss-term configs (`tfdistill.distill.losses.get` identifiers) of the
        terms with a weight above 0, in `TERMS` order.

        Args:
            layer_map: the student's layer map (`StudentConfig.layer_map`), which the
                hidden-state, attention and cosine terms follow.

        Returns:
            list of dicts.

        Example:
        >>> LossConfig().terms()
        [{'loss': 'logit_kd', 'weight': 1.0, 'temperature': 2.0}, {'loss': 'hard_label', 'weight': 0.5}]
        """
        terms = []
        for name, term in self.TERMS.items():
            if getattr(self, name) > 0:
                term = dict(term, weight=getattr(self, name))
                if term["loss"] == "logit_kd":
                    term["temperature"] = self.temperature
                if term["loss"] in ("hidden_mse", "attention", "hidden_cosine"):
                    term["layer_map"] = layer_map
                if term["loss"] == "attention":
                    term["head_average"] = self.head_average
                terms.append(term)
        return terms


@dataclasses.dataclass(frozen=True)
class DistillConfig(Config, _StepBudget):
    """Distillation training (`tfdistill.distill.training.distill`).

    Attributes:
        epochs: epochs with every term (the prediction stage after `intermediate_epochs`).
        intermediate_epochs: TinyBERT stage 1: epochs with the intermediate terms only.
        learning_rate: AdamW peak learning rate.
        batch_size: training batch size.
        augment: embedding-neighbour augmented copies of each training example.
        min_steps: the fewest steps of the (final) stage; small data gets more epochs.
    """

    SECTION = "distill"
    epochs: int = 2
    intermediate_epochs: int = 0
    learning_rate: float = 2e-4
    batch_size: int = 32
    augment: int = 0
    min_steps: int = 600  # as the teacher's

    def validate(self):
        _at_least(self, "epochs", 1)
        _at_least(self, "min_steps", 0)
        _at_least(self, "intermediate_epochs", 0)
        _positive(self, "learning_rate")
        _at_least(self, "batch_size", 1)
        _at_least(self, "augment", 0)


@dataclasses.dataclass(frozen=True)
class PruneConfig(Config, _StepBudget):
    """Magnitude pruning while the teacher keeps guiding the student
    (`tfdistill.compress.fit_student`; learning rate: its default).

    Attributes:
        epochs, learning_rate, batch_size: the training.
        target_sparsity: fraction of each pruned kernel set to zero, in (0, 1).
        min_steps: the fewest training steps (the pruning schedule spans them all).
    """

    SECTION = "prune"
    epochs: int = 1
    learning_rate: float = 1e-4
    batch_size: int = 32
    target_sparsity: float = 0.5
    min_steps: int = 300  # the default's one epoch on Rotten Tomatoes (321 steps)

    def validate(self):
        _at_least(self, "epochs", 1)
        _at_least(self, "min_steps", 0)
        _positive(self, "learning_rate")
        _at_least(self, "batch_size", 1)
        check(0 < self.target_sparsity < 1, self.dotted("target_sparsity"), self.target_sparsity, "must be in (0, 1).")


@dataclasses.dataclass(frozen=True)
class QatConfig(Config, _StepBudget):
    """Quantization-aware training.

    Attributes:
        epochs, learning_rate, batch_size: the training (the batch size also of calibration).
        source: the student QAT starts from: `distill` (the distilled one) or `prune` (its
            zeros kept: smaller gzip); `prune` falls back to `distill` when pruning is skipped.
        calibration_steps: batches that calibrate the quantizer ranges before training.
        min_steps: the fewest training steps.
        int8_scope: what QAT fake-quantizes: `xnnpack` (what the int8 export recipe
            quantizes; exported through that recipe) or `full` (every layer, tfmot's default
            8-bit scheme; exported by TF's converter).
    """

    SECTION = "qat"
    epochs: int = 1
    learning_rate: float = 2e-5
    batch_size: int = 32
    source: str = "distill"
    calibration_steps: int = 20
    min_steps: int = 300  # as pruning's
    int8_scope: str = "xnnpack"

    def validate(self):
        _at_least(self, "epochs", 1)
        _at_least(self, "min_steps", 0)
        _positive(self, "learning_rate")
        _at_least(self, "batch_size", 1)
        _one_of(self, "source", QAT_SOURCES)
        _at_least(self, "calibration_steps", 0)
        _one_of(self, "int8_scope", INT8_SCOPES)


@dataclasses.dataclass(frozen=True)
class ExportConfig(Config):
    """TFLite export.

    Attributes:
        num_representative: training examples that calibrate the int8 exports.
        modes: the modes the distilled student is exported in (the pruned one: those of them
            that quantize, `dynamic` and `int8`; the QAT student always in `qat`). The float
            ones are references: a shipped student is quantized (`SHIPPABLE_MODES`).
        vocabulary: the students' word table in their packages: `full` (the teacher's),
            `used` (the special tokens, every single-character piece and the tokens the
            training texts use: `tfdistill.compress.trim_vocabulary`; the training texts keep
            their tokens, other words are spelt with shorter pieces; on Rotten Tomatoes 15,564
            of 30,522 tokens: `bench/vocab_trim.py`), or `both`: the shippable modes (dynamic,
            int8, QAT) in each (`<name>_used` the trimmed ones), so that the choice of the
            shipped student, on validation, decides (a trimmed one wins ties: smaller). The
            teacher's package keeps its own.
    """

    SECTION = "export"
    num_representative: int = 200
    modes: tuple[str, ...] = STUDENT_EXPORT_MODES
    # Small training sets leave much of a new text's words out of the used vocabulary: whether
    # trimming costs accuracy is measured per run, on validation.
    vocabulary: str = "both"

    def validate(self):
        _at_least(self, "num_representative", 1)
        _one_of(self, "vocabulary", VOCABULARIES)
        unknown = [mode for mode in self.modes if mode not in STUDENT_EXPORT_MODES]
        check(self.modes and not unknown and len(set(self.modes)) == len(self.modes), self.dotted("modes"),
              ",".join(self.modes) or "''", f"must name some of {list(STUDENT_EXPORT_MODES)}, each once.")


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(Config):
    """The latency benchmark (XNNPACK).

    Attributes:
        threads: interpreter threads.
        runs: timed runs per model.
    """

    SECTION = "benchmark"
    threads: int = 1
    runs: int = 50

    def validate(self):
        _at_least(self, "threads", 1)
        _at_least(self, "runs", 1)
