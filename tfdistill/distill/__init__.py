"""Distillation: the `Distiller` model, its loss terms, layer maps, teacher adapters and
student construction."""

from tfdistill.distill import losses
from tfdistill.distill.distiller import Distiller
from tfdistill.distill.layer_map import resolve_layer_map
from tfdistill.distill.student import student_from_teacher
from tfdistill.distill.teachers import Teacher, as_teacher

__all__ = ["Distiller", "Teacher", "as_teacher", "losses", "resolve_layer_map", "student_from_teacher"]
