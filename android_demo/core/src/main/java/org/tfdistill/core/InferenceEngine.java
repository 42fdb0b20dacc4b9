package org.tfdistill.core;

import java.util.Map;

/**
 * Runs one model: int32 inputs by signature name in, float outputs by signature name out.
 *
 * <p>Names, not positions: a converted model's signature lists its inputs sorted by name, which
 * is not the order in which the model was written.
 */
public interface InferenceEngine extends AutoCloseable {
  /**
   * Runs the model once on a batch of one.
   *
   * @param inputs each input's flattened int32 values (e.g. {@code input_ids}, length seq_len)
   * @return each output's flattened float values (e.g. {@code logits}, one per class)
   */
  Map<String, float[]> run(Map<String, int[]> inputs);

  /** Releases the native model and delegates. */
  @Override
  void close();
}
