package org.tfdistill.core;

import java.util.Map;

/**
 * Times a model the way TFLite's {@code benchmark_model} does: initialization (creating the
 * engine), the first inference (which pays for lazy allocation and delegate warm-up), the
 * average of the warm-up runs, then {@code runs} timed inferences summarized by
 * {@link LatencyStats}. Warm-up runs are excluded from the statistics so that steady-state
 * latency is not mixed with one-off costs.
 */
public final class BenchmarkRunner {
  private final Clock clock;
  private final int warmupRuns;
  private final int runs;

  /**
   * @param warmupRuns untimed-in-stats runs before measuring, at least 1 (the first of them is
   *     reported as the first inference)
   * @param runs timed runs, at least 1
   * @throws IllegalArgumentException if a count is below 1
   */
  public BenchmarkRunner(Clock clock, int warmupRuns, int runs) {
    if (warmupRuns < 1 || runs < 1) {
      throw new IllegalArgumentException("warmupRuns and runs must be at least 1, got "
          + warmupRuns + " and " + runs + ".");
    }
    this.clock = clock;
    this.warmupRuns = warmupRuns;
    this.runs = runs;
  }

  /**
   * Creates an engine with {@code factory}, benchmarks it on {@code inputs} and closes it.
   *
   * @throws Exception whatever the factory or the engine throws
   */
  public BenchmarkReport run(EngineFactory factory, Map<String, int[]> inputs) throws Exception {
    long start = clock.nanoTime();
    try (InferenceEngine engine = factory.create()) {
      double initMs = clock.millisSince(start);
      double[] warmup = timeRuns(engine, inputs, warmupRuns);
      double warmupSum = 0;
      for (double ms : warmup) {
        warmupSum += ms;
      }
      LatencyStats stats = LatencyStats.of(timeRuns(engine, inputs, runs));
      return new BenchmarkReport(initMs, warmup[0], warmupSum / warmupRuns, warmupRuns, stats);
    }
  }

  private double[] timeRuns(InferenceEngine engine, Map<String, int[]> inputs, int count) {
    double[] millis = new double[count];
    for (int i = 0; i < count; i++) {
      long start = clock.nanoTime();
      engine.run(inputs);
      millis[i] = clock.millisSince(start);
    }
    return millis;
  }
}
