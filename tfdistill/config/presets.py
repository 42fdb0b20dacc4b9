"""Named configs: run presets (`default`, `demo`, `full`, `tinybert`) and student shapes (`4x6x384`,
`tinybert4`, and the retention ladder's `2x4x256`, `3x4x384`, `5x8x768`), in the spirit of
Model Garden's `exp_factory`. Any `LAYERSxHEADSxFFN` name is a student shape too (`3x6x512`:
3 of the teacher's blocks keeping 6 heads and 512 feed-forward units each).

A preset is a function that returns a fresh config, registered under a name:

    @register_preset("my_run")
    def my_run():
        return get_preset("default").replace(**{"distill.epochs": 4})

Example:
>>> get_preset("full").distill.augment
1
>>> get_preset("demo").skip
('prune', 'qat')
>>> get_student_preset("tinybert4").hidden
192
>>> get_student_preset("3x6x512").intermediate
512
"""

import re

from tfdistill.config.base import ConfigError
from tfdistill.config.run_config import DEFAULT_STUDENT, RunConfig
from tfdistill.config.sections import SHAPE_FIELDS, DistillConfig, LadderConfig, LossConfig, StudentConfig

# `LAYERSxHEADSxFFN`: blocks kept from the teacher, heads kept in each, feed-forward units kept.
_SHAPE_NAME = re.compile(r"^([1-9][0-9]*)x([1-9][0-9]*)x([1-9][0-9]*)$")


class _Registry:
    """Factories by name, for one kind of config."""

    def __init__(self, kind):
        self.kind, self._factories = kind, {}

    def register(self, name):
        def decorator(factory):
            if name in self._factories:
                raise ValueError(f"A {self.kind} preset named {name!r} is already registered; choose another name.")
            self._factories[name] = factory
            return factory

        return decorator

    def get(self, name):
        if name not in self._factories:
            raise ConfigError(f"Unknown {self.kind} preset {name!r}; the presets are {self.names()}.")
        return self._factories[name]()

    def names(self):
        return sorted(self._factories)


_RUNS = _Registry("run")
_STUDENTS = _Registry("student")


def register_preset(name):
    """Decorator: registers a function returning a `RunConfig` as run preset `name`.

    Raises:
        ValueError: the name is taken.
    """
    return _RUNS.register(name)


def get_preset(name):
    """Returns a fresh `RunConfig` of run preset `name`.

    Raises:
        ConfigError: no such preset (the message lists them).
    """
    return _RUNS.get(name)


def list_presets():
    """The run presets' names, sorted."""
    return _RUNS.names()


def register_student_preset(name):
    """Decorator: registers a function returning a `StudentConfig` as student preset `name`.

    Raises:
        ValueError: the name is taken.
    """
    return _STUDENTS.register(name)


def get_student_preset(name):
    """Returns the `StudentConfig` of student preset `name`: a registered one, or any
    `LAYERSxHEADSxFFN` shape kept from the teacher (its width and head size).

    Raises:
        ConfigError: neither (the message lists the presets).
    """
    match = _SHAPE_NAME.match(name)
    if match and name not in _STUDENTS.names():
        layers, heads, intermediate = map(int, match.groups())
        return StudentConfig(layers=layers, heads=heads, intermediate=intermediate)
    try:
        return _STUDENTS.get(name)
    except ConfigError:
        raise ConfigError(f"Unknown student preset {name!r}; the presets are {_STUDENTS.names()}, or name a shape "
                          "kept from the teacher as LAYERSxHEADSxFFN (e.g. 3x4x384).") from None


def ladder_students(config):
    """The students of the retention ladder (`RunConfig.ladder`), smallest first: `[(name,
    StudentConfig)]`, each rung's shape with the `student` section's other settings.

    Raises:
        ConfigError: a rung that names no preset or shape.

    Example:
    >>> config = get_preset("default").replace(**{"ladder.students": ("2x4x256", "tinybert4"), "ladder.start": None})
    >>> [(name, student.layers, student.hidden) for name, student in ladder_students(config)]
    [('2x4x256', 2, None), ('tinybert4', 4, 192)]
    """
    rungs = []
    for name in config.ladder.students:
        try:
            shape = get_student_preset(name)
        except ConfigError as error:
            raise ConfigError(f"ladder.students: {error}", ("ladder.students",)) from None
        rungs.append((name, config.student.replace(**{field: getattr(shape, field) for field in SHAPE_FIELDS})))
    return rungs


def list_student_presets():
    """The student presets' names, sorted."""
    return _STUDENTS.names()


@register_student_preset("4x6x384")
def student_4x6x384():
    """4 of the teacher's blocks, each keeping its 6 most important heads and 384 feed-forward
    units (MiniLM-L6: 0.23x its non-embedding parameters): the pipeline's default."""
    return DEFAULT_STUDENT


@register_student_preset("tinybert4")
def student_tinybert4():
    """A TinyBERT-4-like student: 4 fresh blocks at width 192 with FFN 768 (half MiniLM-L6's
    width), embeddings a PCA projection of the teacher's (`recipes/configs/tinybert4.cfg`)."""
    return StudentConfig(layers=4, hidden=192, intermediate=768, embedding_init="pca", layer_map="uniform")


@register_student_preset("2x4x256")
def student_2x4x256():
    """The retention ladder's smallest rung: 2 of the teacher's blocks, 4 heads and 256
    feed-forward units each (MiniLM-L6: 0.07x its non-embedding parameters)."""
    return StudentConfig(layers=2, heads=4, intermediate=256)


@register_student_preset("3x4x384")
def student_3x4x384():
    """3 of the teacher's blocks, 4 heads and 384 feed-forward units each (MiniLM-L6: 0.14x)."""
    return StudentConfig(layers=3, heads=4, intermediate=384)


@register_student_preset("5x8x768")
def student_5x8x768():
    """The ladder's largest rung, for harder data: 5 blocks, 8 heads and 768 feed-forward units
    each (MiniLM-L6: 0.46x)."""
    return StudentConfig(layers=5, heads=8, intermediate=768)


@register_preset("default")
def default():
    """The pipeline's defaults, `RunConfig()`: teacher 2 epochs; the retention ladder (started at
    4x6x384) distils 2 epochs a rung; prune 1, QAT 1; students exported in every mode, with
    the teacher's and the used vocabulary. About 27 min on 2 slow cores (RT)."""
    return RunConfig()


@register_preset("demo")
def demo():
    """`make demo`'s tour, 8.7-16.8 min on 2 cores as their speed varies (Rotten Tomatoes, README): the
    defaults' teacher and the ladder's starting student, 4x6x384, distilled as by default,
    without the ladder's other rungs, pruning and QAT; exported as float32 (the reference),
    dynamic and int8, with the used vocabulary only (on Rotten Tomatoes it ties the teacher's,
    README). The ladder's margin is not checked (this student kept 97.4% of the teacher's test
    accuracy there): `default` is the pipeline that climbs the ladder and compresses."""
    return RunConfig().replace(**{"ladder.target_retention": 0.0, "skip": ("prune", "qat"),
                                  "export.modes": ("float32", "dynamic", "int8"), "export.vocabulary": "used"})


@register_preset("full")
def full():
    """Longer and more accurate than `default`: teacher 3 epochs, distill 3 with one augmented
    copy, prune 2, QAT 2."""
    return RunConfig().replace(**{"teacher.epochs": 3, "distill.epochs": 3, "distill.augment": 1,
                                  "prune.epochs": 2, "qat.epochs": 2})


@register_preset("tinybert")
def tinybert():
    """TinyBERT's two stages on the `tinybert4` student (`recipes/configs/tinybert4.cfg`): 2 epochs
    of hidden-state, embedding and attention distillation, then 3 of logit KD and hard labels;
    the other stages as in `default`, without the retention ladder. Not measured."""
    return RunConfig(
        student=student_tinybert4(), ladder=LadderConfig(target_retention=0.0),
        losses=LossConfig(logit_weight=1.0, hard_weight=0.5, hidden_weight=1.0, embedding_weight=1.0,
                          attention_weight=1.0, temperature=2.0),
        distill=DistillConfig(epochs=3, intermediate_epochs=2, learning_rate=2e-4))
