"""Data, not code: the ai-edge-quantizer recipes of the `dynamic` and `int8` export modes, one
JSON file per mode (read by `tfdistill.export.quantization_recipes`, which explains each rule).
"""
