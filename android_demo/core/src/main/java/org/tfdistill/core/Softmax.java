package org.tfdistill.core;

/** Turns logits into probabilities. */
public final class Softmax {
  private Softmax() {}

  /**
   * Returns {@code exp(x_i - max) / sum_j exp(x_j - max)}: subtracting the maximum keeps
   * {@code exp} from overflowing on large logits without changing the result.
   *
   * @throws IllegalArgumentException if {@code logits} is empty or holds NaN
   */
  public static float[] apply(float[] logits) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("softmax of an empty logits vector");
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float logit : logits) {
      if (Float.isNaN(logit)) {
        throw new IllegalArgumentException("logits contain NaN; the model output is broken.");
      }
      max = Math.max(max, logit);
    }
    double[] exps = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      exps[i] = Math.exp(logits[i] - max);
      sum += exps[i];
    }
    float[] probabilities = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      probabilities[i] = (float) (exps[i] / sum);
    }
    return probabilities;
  }

  /** Returns the index of the largest value (the first one on ties). */
  public static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
