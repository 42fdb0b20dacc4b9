package org.tfdistill.core;

import java.util.Locale;

/** The result of {@link BenchmarkRunner#run}; all times in milliseconds. */
public final class BenchmarkReport {
  private final double initMs;
  private final double firstInferenceMs;
  private final double warmupAverageMs;
  private final int warmupRuns;
  private final LatencyStats inference;

  BenchmarkReport(double initMs, double firstInferenceMs, double warmupAverageMs, int warmupRuns,
      LatencyStats inference) {
    this.initMs = initMs;
    this.firstInferenceMs = firstInferenceMs;
    this.warmupAverageMs = warmupAverageMs;
    this.warmupRuns = warmupRuns;
    this.inference = inference;
  }

  /** Time to create the engine: model load, graph preparation, delegate initialization. */
  public double initMs() {
    return initMs;
  }

  public double firstInferenceMs() {
    return firstInferenceMs;
  }

  /** Average over all warm-up runs, the first included (as benchmark_model reports it). */
  public double warmupAverageMs() {
    return warmupAverageMs;
  }

  public int warmupRuns() {
    return warmupRuns;
  }

  /** Statistics of the timed runs only. */
  public LatencyStats inference() {
    return inference;
  }

  /** A multi-line summary in the spirit of benchmark_model's output. */
  public String format() {
    return String.format(Locale.ROOT,
        "Init: %.3f ms%nFirst inference: %.3f ms%nWarm-up (avg of %d): %.3f ms%nInference: %s",
        initMs, firstInferenceMs, warmupRuns, warmupAverageMs, inference.format("ms"));
  }

  @Override
  public String toString() {
    return format();
  }
}
