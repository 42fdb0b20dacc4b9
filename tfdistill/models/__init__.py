"""Model definitions: the tf-keras BERT family and its checkpoints."""
