"""What the benches that re-measure a finished pipeline run share: loading it."""

import os


def load_run(run_dir):
    """The run's context: its config, data (the same split), the teacher's tokenizer, and its
    stages' models (loaded lazily, `ctx.model(stage)`)."""
    import tfdistill
    from tfdistill.cli.pipeline import load_data
    from tfdistill.config import RunConfig
    from tfdistill.pipeline.context import PipelineContext

    config = RunConfig.load(os.path.join(run_dir, "run.json"))
    tokenizer = tfdistill.Tokenizer.from_pretrained(os.path.join(run_dir, "teacher", "model"))
    return PipelineContext(config, load_data(config), tokenizer, run_dir)
