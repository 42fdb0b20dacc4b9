package org.tfdistill.core;

import java.util.Locale;

/** The classification of one text, with the time it took. */
public final class Prediction {
  private final Labels labels;
  private final float[] probabilities;
  private final int best;
  private final double tokenizeMs;
  private final double inferenceMs;

  Prediction(Labels labels, float[] probabilities, double tokenizeMs, double inferenceMs) {
    this.labels = labels;
    this.probabilities = probabilities;
    this.best = Softmax.argmax(probabilities);
    this.tokenizeMs = tokenizeMs;
    this.inferenceMs = inferenceMs;
  }

  /** The most probable class name. */
  public String label() {
    return labels.get(best);
  }

  public float probability() {
    return probabilities[best];
  }

  /** Probabilities in label order. */
  public float[] probabilities() {
    return probabilities.clone();
  }

  public Labels labels() {
    return labels;
  }

  public double tokenizeMs() {
    return tokenizeMs;
  }

  public double inferenceMs() {
    return inferenceMs;
  }

  /** Human-readable summary, e.g. {@code fresh (93.1%) | fresh 93.1%, rotten 6.9% | ...}. */
  public String format() {
    StringBuilder out = new StringBuilder(
        String.format(Locale.ROOT, "%s (%.1f%%)\n", label(), 100f * probability()));
    for (int i = 0; i < probabilities.length; i++) {
      out.append(String.format(Locale.ROOT, "  %-12s %5.1f%%\n", labels.get(i),
          100f * probabilities[i]));
    }
    out.append(String.format(Locale.ROOT, "tokenize %.2f ms, inference %.2f ms",
        tokenizeMs, inferenceMs));
    return out.toString();
  }

  @Override
  public String toString() {
    return format();
  }
}
