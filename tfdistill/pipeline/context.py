"""What every stage of a pipeline run shares: the run config, data, preprocessor, and the models
earlier stages published."""

import os


class PipelineContext:
    """The state of one pipeline run.

    Args:
        config: `tfdistill.config.RunConfig`, what the run computes from.
        data: `TextClassificationData`.
        tokenizer: `tfdistill.Tokenizer`.
        output_dir: str, the run folder (one sub-folder per stage).
        base_model: str, the folder fine-tuned when the config names no teacher
            (`config.teacher.base_model`, or the shipped MiniLM).
        skipped: stage names switched off (default: `config.skip`).
        resumable: bool, whether the training stages back up their epochs so that a killed run
            resumes mid-stage (off under a multi-worker strategy, whose workers cannot share
            the backups).

    Attributes:
        backup_dir: str, where the running stage backs up its training epochs (set by
            `run_stages`), or None when the run is not resumable.

    Example:
    >>> from tfdistill.config import RunConfig
    >>> ctx = PipelineContext(RunConfig(skip=("qat",)), data, tokenizer, "runs/demo", None)
    >>> ctx.ran("prune"), ctx.ran("qat"), ctx.final_dir("distill")
    (True, False, 'runs/demo/distill')
    >>> ctx.preprocessor.max_length == ctx.config.data.max_length
    True
    """

    def __init__(self, config, data, tokenizer, output_dir, base_model=None, skipped=None, resumable=True):
        self.config, self.data, self.tokenizer = config, data, tokenizer
        self.output_dir, self.base_model, self.resumable = output_dir, base_model, resumable
        self.skipped = set(config.skip if skipped is None else skipped)
        self._models = {}
        self._preprocessor = None
        self.backup_dir = None

    @property
    def preprocessor(self):
        """The run's `TextClassifierPreprocessor` (tokenizer, `config.data.max_length`, class
        names): one per run, so every stage reuses each split's tokenization."""
        if self._preprocessor is None:
            from tfdistill.data.preprocessor import TextClassifierPreprocessor

            self._preprocessor = TextClassifierPreprocessor(self.tokenizer, self.config.data.max_length,
                                                            self.data.label_names)
        return self._preprocessor

    def final_dir(self, stage):
        """The published folder of `stage`."""
        return os.path.join(self.output_dir, stage)

    def ran(self, stage):
        """True unless `stage` is switched off."""
        return stage not in self.skipped

    def outputs(self, stage):
        """The outputs a finished stage recorded in its manifest."""
        from tfdistill.pipeline.manifest import read_manifest

        manifest = read_manifest(self.final_dir(stage))
        if manifest is None and os.path.isdir(self.final_dir(stage)):
            raise RuntimeError(f"{self.final_dir(stage)} has no manifest.json: stage {stage!r} did not finish "
                               "writing it. Re-run the pipeline (it redoes the stage) or delete that folder.")
        if manifest is None:
            raise RuntimeError(f"Stage {stage!r} has not finished; it must run before the stages that use it.")
        return manifest["outputs"]

    def log_dir(self, stage):
        """The TensorBoard folder of a training stage, `<tensorboard_dir>/<stage>`, or None."""
        folder = self.config.tensorboard_dir
        return os.path.join(folder, stage) if folder else None

    def path(self, stage, relative):
        """Resolves a path a stage recorded relative to its folder (absolute paths stay)."""
        return os.path.join(self.final_dir(stage), relative)

    def model(self, stage):
        """Loads (once) the model a stage published: HF folders, or the QAT `.h5`."""
        if stage not in self._models:
            path = self.path(stage, self.outputs(stage)["path"])
            if stage == "qat":
                from tfdistill import compress

                self._models[stage] = compress.load_quantized(path)
            else:
                import tfdistill

                self._models[stage] = tfdistill.load_pretrained(path)
        return self._models[stage]
