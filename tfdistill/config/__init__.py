"""Typed run configs: what a pipeline run computes from, as frozen dataclasses saved as JSON.

The bottom layer of tfdistill (it imports only the standard library and `tfdistill.utils`), so
every other layer can take a config. `RunConfig` holds one section per part of the run; named
presets live in `tfdistill.config.presets`.

Example:
>>> from tfdistill.config import RunConfig, get_preset
>>> config = get_preset("default").replace(**{"distill.learning_rate": 1e-4})
>>> config.distill.learning_rate, config.student.heads
(0.0001, 6)
"""

from tfdistill.config.base import Config, ConfigError
from tfdistill.config.presets import (get_preset, get_student_preset, list_presets, list_student_presets,
                                      register_preset, register_student_preset)
from tfdistill.config.run_config import RunConfig
from tfdistill.config.sections import (BenchmarkConfig, DataConfig, DistillConfig, ExportConfig, LossConfig,
                                       PruneConfig, QatConfig, StudentConfig, TeacherConfig)

__all__ = ["BenchmarkConfig", "Config", "ConfigError", "DataConfig", "DistillConfig", "ExportConfig", "LossConfig",
           "PruneConfig", "QatConfig", "RunConfig", "StudentConfig", "TeacherConfig", "get_preset",
           "get_student_preset", "list_presets", "list_student_presets", "register_preset",
           "register_student_preset"]
