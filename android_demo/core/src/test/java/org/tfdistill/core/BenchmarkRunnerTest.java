package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkRunnerTest {
  private static final Map<String, int[]> INPUTS =
      Collections.singletonMap(Encoding.INPUT_IDS, new int[] {101, 102});

  @Test
  void separatesInitFirstInferenceWarmupAndTimedRuns() throws Exception {
    final FakeClock clock = new FakeClock();
    // Warm-up: 9 ms then 3 ms; timed: 1, 2, 3, 4 ms.
    final FakeEngine engine = new FakeEngine(clock, "logits", new float[] {0f}, 9, 3, 1, 2, 3, 4);
    EngineFactory factory = () -> {
      clock.advanceMillis(25);
      return engine;
    };

    BenchmarkReport report = new BenchmarkRunner(clock, 2, 4).run(factory, INPUTS);

    assertEquals(25.0, report.initMs(), 1e-9);
    assertEquals(9.0, report.firstInferenceMs(), 1e-9);
    assertEquals(6.0, report.warmupAverageMs(), 1e-9);
    assertEquals(2, report.warmupRuns());
    LatencyStats stats = report.inference();
    assertEquals(4, stats.count());
    assertEquals(2.5, stats.mean(), 1e-9);
    assertEquals(1.0, stats.min(), 1e-9);
    assertEquals(4.0, stats.max(), 1e-9);
    assertEquals(6, engine.calls.size());
    assertSame(INPUTS, engine.calls.get(0));
    assertTrue(engine.closed, "the runner closes the engine it created");
    assertTrue(report.format().contains("First inference: 9.000 ms"), report.format());
  }

  @Test
  void closesTheEngineWhenARunFails() {
    FakeClock clock = new FakeClock();
    final FakeEngine engine = new FakeEngine(clock, "logits", new float[] {0f}) {
      @Override
      public Map<String, float[]> run(Map<String, int[]> inputs) {
        throw new IllegalStateException("delegate failed");
      }
    };
    assertThrows(IllegalStateException.class,
        () -> new BenchmarkRunner(clock, 1, 1).run(() -> engine, INPUTS));
    assertTrue(engine.closed);
  }

  @Test
  void rejectsZeroRuns() {
    assertThrows(IllegalArgumentException.class, () -> new BenchmarkRunner(Clock.SYSTEM, 0, 5));
    assertThrows(IllegalArgumentException.class, () -> new BenchmarkRunner(Clock.SYSTEM, 1, 0));
  }
}
