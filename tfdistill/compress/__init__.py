"""Compressing a BERT student with tensorflow-model-optimization: pruning and QAT.

Pruning (`prune_student` + `pruning_callbacks` + `strip_student`; `pruning_reached_target`
tells when every schedule is at its target), quantization-aware training
(`quantize_student` + `calibrate_ranges`, `save_quantized`/`load_quantized`), both together
(`quantize_student(..., preserve_sparsity=True)` on a stripped pruned student) and the reports
(`weight_sparsity`, `tflite_weight_sparsity`). Every transform returns a `CompressedBert` that
trains with plain `fit` or inside the Distiller (`fit_student`).

Names are resolved lazily: tfmot costs ~3 s to import and is only loaded when used.

Example (prune a student to 50% zeros while its teacher guides it, then prepare QAT on the
pruned student, keeping its zeros):

>>> from tfdistill import compress
>>> pruned = compress.prune_student(student, compress.PruningConfig.for_steps(16))
>>> summary = compress.fit_student(pruned, tokenizer, data, teacher=teacher, epochs=2,
...                                max_length=16, batch_size=8)  # doctest: +SKIP
>>> student = compress.strip_student(pruned)
>>> compress.is_pruned(pruned), compress.is_pruned(student)
(True, False)
>>> qat = compress.quantize_student(student, preserve_sparsity=True)  # doctest: +SKIP
>>> report = compress.calibrate_ranges(qat, train, steps=20)  # doctest: +SKIP
"""

from tfdistill.utils.lazy import lazy_attributes

# public name -> module that defines it
_EXPORTS = {
    "CompressedBert": "tfdistill.compress.bert_graph",
    "as_compressed_bert": "tfdistill.compress.bert_graph",
    "PruningConfig": "tfdistill.compress.pruning_config",
    "parse_m_by_n": "tfdistill.compress.pruning_config",
    "pruning_targets": "tfdistill.compress.pruning",
    "prune_student": "tfdistill.compress.pruning",
    "pruning_callbacks": "tfdistill.compress.pruning",
    "strip_student": "tfdistill.compress.pruning",
    "training_token_ids": "tfdistill.compress.pruning",
    "is_pruned": "tfdistill.compress.pruning",
    "quantization_plan": "tfdistill.compress.quantization",
    "quantize_student": "tfdistill.compress.quantization",
    "quantization_scope": "tfdistill.compress.quantization",
    "is_quantized": "tfdistill.compress.quantization",
    "save_quantized": "tfdistill.compress.quantization",
    "load_quantized": "tfdistill.compress.quantization",
    "OutputQuantizeConfig": "tfdistill.compress.quantize_configs",
    "NoOpQuantizeConfig": "tfdistill.compress.quantize_configs",
    "TableQuantizeConfig": "tfdistill.compress.quantize_configs",
    "ScoresQuantizeConfig": "tfdistill.compress.quantize_configs",
    "MaskedScoresQuantizer": "tfdistill.compress.quantize_configs",
    "LastValueQuantizerSTE": "tfdistill.compress.quantizers",
    "MovingAverageQuantizerSTE": "tfdistill.compress.quantizers",
    "PrunePreservingQuantizerSTE": "tfdistill.compress.quantizers",
    "calibrate_ranges": "tfdistill.compress.calibration",
    "dequantized_copy": "tfdistill.compress.calibration",
    "weight_sparsity": "tfdistill.compress.report",
    "overall_sparsity": "tfdistill.compress.report",
    "tflite_weight_sparsity": "tfdistill.compress.report",
    "format_sparsity_table": "tfdistill.compress.report",
    "fit_student": "tfdistill.compress.training",
    "vocabulary_to_keep": "tfdistill.compress.vocabulary",
    "trim_vocabulary": "tfdistill.compress.vocabulary",
    "factorize_embeddings": "tfdistill.models.bert.factorize",
    "pruning_reached_target": "tfdistill.compress.training",
}


__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
