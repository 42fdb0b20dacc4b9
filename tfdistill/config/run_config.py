"""`RunConfig`: everything a pipeline run computes from, one typed object saved as `run.json`."""

import dataclasses
import json

from tfdistill.config.base import Config, ConfigError, check
from tfdistill.config.sections import (MIXED_PRECISION_MODES, BenchmarkConfig, DataConfig, DistillConfig,
                                       ExportConfig, LadderConfig, LossConfig, PruneConfig, QatConfig, StudentConfig,
                                       TeacherConfig)
from tfdistill.utils import atomic

# The pipeline's default student: 4 of the teacher's 6 blocks, each keeping its 6 most important
# heads (of 12) and 384 feed-forward units (of 1536): 0.23x the teacher's non-embedding
# parameters. Logit KD and hard labels alone train it as well as with hidden-state and
# attention terms added (README). Registered as the `4x6x384` student preset.
DEFAULT_STUDENT = StudentConfig(layers=4, heads=6, intermediate=384)


@dataclasses.dataclass(frozen=True)
class RunConfig(Config):
    """One pipeline run: teacher -> distill -> prune -> QAT -> export -> evaluate -> benchmark.

    `RunConfig()` is the `default` preset. Where a run writes its output, which stages it redoes,
    and whether it may overwrite are not part of it: they do not change what a run computes.
    `tensorboard_dir` is (so a saved run.json logs where the run did), but no stage depends on it.

    Attributes:
        data, teacher, student, losses, distill, prune, qat, export, benchmark: the sections.
        ladder: the retention target and the student shapes the distill stage chooses among
            (with `ladder.target_retention=0`, `student` is the one student).
        seed: seed of the data split, shuffling and initialisation.
        skip: stages switched off (`prune`, `qat`).
        mixed_precision: `auto` (bfloat16 teacher passes where the CPU has bfloat16 units),
            `bfloat16` (the distilled student too) or `float32`.
        cache_teacher_outputs: compute the teacher's outputs once per split when every loss
            term reads only its logits, hidden states and attention maps (same batches, same
            order: the results do not change; `tfdistill.distill.teacher_cache`).
        lazy_adam: train with `LazyAdamW` (embedding tables updated only in the rows each
            batch reads: faster, not AdamW); False: AdamW (`FusedAdamW`).
        tensorboard_dir: optional folder for TensorBoard logs of the training stages, one
            sub-folder each (`<tensorboard_dir>/distill`).

    Example:
    >>> config = RunConfig().replace(**{"distill.epochs": 3, "skip": ["prune"]})
    >>> RunConfig.from_dict(config.to_dict()) == config
    True
    """

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    teacher: TeacherConfig = dataclasses.field(default_factory=TeacherConfig)
    student: StudentConfig = DEFAULT_STUDENT
    ladder: LadderConfig = dataclasses.field(default_factory=LadderConfig)
    losses: LossConfig = dataclasses.field(default_factory=LossConfig)
    distill: DistillConfig = dataclasses.field(default_factory=DistillConfig)
    prune: PruneConfig = dataclasses.field(default_factory=PruneConfig)
    qat: QatConfig = dataclasses.field(default_factory=QatConfig)
    export: ExportConfig = dataclasses.field(default_factory=ExportConfig)
    benchmark: BenchmarkConfig = dataclasses.field(default_factory=BenchmarkConfig)
    seed: int = 0
    skip: tuple[str, ...] = ()
    mixed_precision: str = "auto"
    cache_teacher_outputs: bool = True
    lazy_adam: bool = False
    tensorboard_dir: str | None = None

    def validate(self):
        check(self.seed >= 0, "seed", self.seed, "must be >= 0.")
        check(len(set(self.skip)) == len(self.skip), "skip", ",".join(self.skip), "names a stage twice.")
        check(self.mixed_precision in MIXED_PRECISION_MODES, "mixed_precision", self.mixed_precision,
              f"must be one of {list(MIXED_PRECISION_MODES)}.")
        check(not (self.student.init and self.ladder.enabled), "student.init", self.student.init,
              "fixes the student's shape, so the retention ladder cannot choose one: set "
              "ladder.target_retention=0 (--target_retention=0) or drop it.")
        if self.ladder.enabled:
            from tfdistill.config.presets import ladder_students  # presets import this module

            ladder_students(self)  # every rung names a shape
        check(self.tensorboard_dir != "", "tensorboard_dir", "''", "must name a folder (or be null: no logs).")

    def loss_terms(self):
        """The distillation loss terms, following the student's layer map (`LossConfig.terms`)."""
        return self.losses.terms(self.student.layer_map)

    def save(self, path):
        """Writes the config as indented JSON, atomically (whole or not at all).

        Example:
        >>> import json
        >>> RunConfig().replace(**{"distill.epochs": 3}).save("runs/demo/run.json")
        >>> with open("runs/demo/run.json") as f:
        ...     json.load(f)["distill"]["epochs"]
        3
        """
        atomic.write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """Reads a config `save` wrote (or one written by hand: missing keys take defaults).

        Args:
            path: str, a `.json` file.

        Returns:
            RunConfig.

        Raises:
            FileNotFoundError: no such file.
            ConfigError: not JSON, an unknown key, or a refused value; the message names the file.

        Example:
        >>> RunConfig().replace(**{"distill.epochs": 3}).save("runs/demo/run.json")
        >>> RunConfig.load("runs/demo/run.json").distill.epochs
        3
        """
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"No run config at {path!r}; pass the run.json a pipeline run wrote "
                                    "into its output folder.") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not valid JSON ({error}); fix it or write it again with "
                              "RunConfig.save.") from None
        try:
            return cls.from_dict(values)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}", error.fields) from None
