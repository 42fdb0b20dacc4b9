"""Unit test of the analytic FLOP count."""

import tfdistill
from tfdistill.export.flops import bert_flops


def test_flops_of_one_layer_by_hand():
    config = tfdistill.BertConfig(vocab_size=10, hidden_size=4, num_layers=1, num_heads=2,
                                  intermediate_size=8, num_labels=2)
    seq = 3
    by_hand = (4 * 2 * seq * 4 * 4) + (2 * 2 * seq * seq * 4) + (2 * 2 * seq * 4 * 8) + (2 * 4 * 4 + 2 * 4 * 2)
    assert bert_flops(config, seq) == by_hand
    assert bert_flops(config.replace(num_layers=2), seq) > bert_flops(config, seq)
