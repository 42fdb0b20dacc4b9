"""The end-to-end pipeline: teacher -> distill -> prune -> QAT -> export -> evaluate ->
benchmark -> report, as resumable stages."""
