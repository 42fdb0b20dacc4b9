package org.tfdistill.core;

/** A clock that only moves when a test advances it. */
final class FakeClock implements Clock {
  private long now = 1_000_000L;

  @Override
  public long nanoTime() {
    return now;
  }

  void advanceMillis(double millis) {
    now += Math.round(millis * 1e6);
  }
}
