package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {
  /** numpy's pairwise summation may differ from a plain sum in the last bits. */
  private static final double RELATIVE_TOLERANCE = 1e-12;

  @Test
  void agreesWithNumpy() throws IOException {
    Map<?, ?> fixture = (Map<?, ?>) Json.parse(Fixtures.resource("latency_stats_fixture.json"));
    List<?> cases = (List<?>) fixture.get("cases");
    assertTrue(cases.size() >= 5);
    for (Object item : cases) {
      Map<?, ?> expected = (Map<?, ?>) item;
      List<?> samples = (List<?>) expected.get("samples");
      double[] values = new double[samples.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = ((Number) samples.get(i)).doubleValue();
      }
      LatencyStats stats = LatencyStats.of(values);
      String where = "n=" + values.length;
      assertEquals(values.length, stats.count(), where);
      assertClose(expected.get("mean"), stats.mean(), where + " mean");
      assertClose(expected.get("std"), stats.std(), where + " std");
      assertClose(expected.get("min"), stats.min(), where + " min");
      assertClose(expected.get("max"), stats.max(), where + " max");
      assertClose(expected.get("p50"), stats.p50(), where + " p50");
      assertClose(expected.get("p90"), stats.p90(), where + " p90");
    }
  }

  @Test
  void interpolatesLinearlyBetweenOrderStatistics() {
    LatencyStats stats = LatencyStats.of(new double[] {4, 1, 3, 2});
    assertEquals(2.5, stats.p50());
    assertEquals(3.7, stats.p90(), 1e-15);
    assertEquals(1.0, stats.percentile(0));
    assertEquals(4.0, stats.percentile(100));
    assertEquals(Math.sqrt(1.25), stats.std(), 1e-15);
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(new double[0]));
    assertThrows(IllegalArgumentException.class,
        () -> LatencyStats.of(new double[] {1, Double.NaN}));
    assertThrows(IllegalArgumentException.class,
        () -> LatencyStats.of(new double[] {1}).percentile(101));
  }

  private static void assertClose(Object expected, double actual, String what) {
    double e = ((Number) expected).doubleValue();
    assertEquals(e, actual, Math.abs(e) * RELATIVE_TOLERANCE, what);
  }
}
