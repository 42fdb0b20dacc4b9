package org.tfdistill.core;

import java.util.Arrays;
import java.util.Locale;

/**
 * Summary statistics of latency samples, defined as numpy defines them so that numbers from the
 * phone and from the Python benchmarks compare directly: {@code std} is the population standard
 * deviation ({@code np.std}, ddof=0) and percentiles interpolate linearly between order
 * statistics ({@code np.percentile}'s default method), including numpy's choice of interpolation
 * formula, so results agree to the last bit or nearly so.
 */
public final class LatencyStats {
  private final double[] sorted;
  private final double mean;
  private final double std;

  private LatencyStats(double[] sorted, double mean, double std) {
    this.sorted = sorted;
    this.mean = mean;
    this.std = std;
  }

  /**
   * Computes the statistics of {@code samples} (any unit; the app uses milliseconds).
   *
   * @throws IllegalArgumentException if there are no samples or one is not finite
   */
  public static LatencyStats of(double[] samples) {
    if (samples.length == 0) {
      throw new IllegalArgumentException("LatencyStats needs at least one sample.");
    }
    double sum = 0;
    for (double sample : samples) {
      if (Double.isNaN(sample) || Double.isInfinite(sample)) {
        throw new IllegalArgumentException("Latency samples must be finite, got " + sample);
      }
      sum += sample;
    }
    double mean = sum / samples.length;
    // Two passes: the one-pass E[x^2] - E[x]^2 formula loses all precision when the spread is
    // small next to the mean, which is exactly the case for a steady benchmark.
    double squares = 0;
    for (double sample : samples) {
      double d = sample - mean;
      squares += d * d;
    }
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    return new LatencyStats(sorted, mean, Math.sqrt(squares / samples.length));
  }

  public int count() {
    return sorted.length;
  }

  public double mean() {
    return mean;
  }

  public double std() {
    return std;
  }

  public double min() {
    return sorted[0];
  }

  public double max() {
    return sorted[sorted.length - 1];
  }

  public double p50() {
    return percentile(50);
  }

  public double p90() {
    return percentile(90);
  }

  /**
   * Returns the {@code p}-th percentile as {@code np.percentile(samples, p)}.
   *
   * @throws IllegalArgumentException if {@code p} is outside [0, 100]
   */
  public double percentile(double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("Percentiles must be in [0, 100], got " + p);
    }
    double index = (sorted.length - 1) * (p / 100);
    if (index >= sorted.length - 1) {
      return sorted[sorted.length - 1];
    }
    int below = (int) Math.floor(index);
    double gamma = index - below;
    double a = sorted[below];
    double b = sorted[below + 1];
    double diff = b - a;
    // numpy's _lerp: interpolating from the nearer end keeps the result inside [a, b].
    return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
  }

  /** One line in the style of TFLite's benchmark_model, e.g. for logcat. */
  public String format(String unit) {
    return String.format(Locale.ROOT,
        "count=%d mean=%.3f std=%.3f min=%.3f p50=%.3f p90=%.3f max=%.3f (%s)",
        count(), mean, std, min(), p50(), p90(), max(), unit);
  }

  @Override
  public String toString() {
    return format("ms");
  }
}
