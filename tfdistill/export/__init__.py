"""Ship a classifier as TFLite: convert, validate, package, evaluate and benchmark `.tflite` files.

Library code for the absl scripts in `export/` at the repository root. Names are resolved lazily:
reading or benchmarking a `.tflite` needs only `ai_edge_litert` and numpy, never TensorFlow, so the
benchmark's per-configuration subprocesses stay small and their peak RSS is the interpreter's.

Example:
>>> from tfdistill import export
>>> result = export.export_tflite(student, "runs/student_int8", mode="int8", seq_len=16,
...                               tokenizer=tokenizer, representative_split=data.train,
...                               validation_split=data.validation,
...                               test_split=data.test)
>>> result.tflite_path, result.card["mode"], result.card["validation"]["agreement"] >= 0.97
('runs/student_int8/model.tflite', 'int8', True)
>>> export.evaluate_tflite(result.tflite_path, tokenizer, data.test).accuracy == result.card["accuracy"]
True
"""

from tfdistill.utils.lazy import lazy_attributes

# public name -> module that defines it
_EXPORTS = {
    "MODES": "tfdistill.export.modes",
    "export_tflite": "tfdistill.export.exporter",
    "ExportResult": "tfdistill.export.exporter",
    "ExportValidationError": "tfdistill.export.validation",
    "Agreement": "tfdistill.export.validation",
    "MIN_AGREEMENT": "tfdistill.export.validation",
    "evaluate_tflite": "tfdistill.export.evaluate",
    "Evaluation": "tfdistill.export.evaluate",
    "TFLiteClassifier": "tfdistill.export.runtime",
    "load_interpreter": "tfdistill.export.runtime",
    "read_tflite": "tfdistill.export.runtime",
    "xnnpack_delegation": "tfdistill.export.delegation",
    "Delegation": "tfdistill.export.delegation",
    "benchmark_tflite": "tfdistill.export.benchmark",
    "BenchmarkResult": "tfdistill.export.benchmark",
    "format_table": "tfdistill.export.benchmark",
    "bert_flops": "tfdistill.export.flops",
    "read_model_card": "tfdistill.export.package",
}


__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
