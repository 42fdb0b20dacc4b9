package org.tfdistill.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** An engine that returns fixed logits and spends scripted time on a {@link FakeClock}. */
class FakeEngine implements InferenceEngine {
  private final FakeClock clock;
  private final String outputName;
  private final float[] logits;
  private final double[] runMillis;
  final List<Map<String, int[]>> calls = new ArrayList<>();
  boolean closed;

  /** Each run takes the next of {@code runMillis} (the last one repeats). */
  FakeEngine(FakeClock clock, String outputName, float[] logits, double... runMillis) {
    this.clock = clock;
    this.outputName = outputName;
    this.logits = logits;
    this.runMillis = runMillis.length == 0 ? new double[] {0} : runMillis;
  }

  @Override
  public Map<String, float[]> run(Map<String, int[]> inputs) {
    if (closed) {
      throw new IllegalStateException("run after close");
    }
    clock.advanceMillis(runMillis[Math.min(calls.size(), runMillis.length - 1)]);
    calls.add(inputs);
    return Collections.singletonMap(outputName, logits.clone());
  }

  @Override
  public void close() {
    closed = true;
  }
}
