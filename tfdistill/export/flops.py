"""Analytic floating-point operation counts of a BERT classifier forward pass."""


def bert_flops(config, seq_len):
    """Counts the FLOPs (2 per multiply-add) of one example through the encoder and head.

    Counted: the Q/K/V/output projections, attention scores and context (`2 * seq^2 * hidden`
    each, over the heads' total width), the feed-forward block, the pooler and the classifier. Not counted (under 2% for the
    models here): embeddings lookups, LayerNorm, softmax, GELU, biases and residual adds.

    Args:
        config: `tfdistill.BertConfig`.
        seq_len: int.

    Returns:
        int.

    Example:
    >>> import tfdistill
    >>> config = tfdistill.BertConfig(hidden_size=384, num_layers=4, num_heads=6,
    ...                               intermediate_size=1536, num_labels=2)
    >>> round(bert_flops(config, 64) / 1e6)
    931
    """
    hidden, inner = config.hidden_size, config.intermediate_size
    projections = 4 * 2 * seq_len * hidden * config.attention_size
    attention = 2 * 2 * seq_len * seq_len * config.attention_size
    feed_forward = 2 * 2 * seq_len * hidden * inner
    head = 2 * hidden * hidden + 2 * hidden * (config.num_labels or 0)
    return config.num_layers * (projections + attention + feed_forward) + head
