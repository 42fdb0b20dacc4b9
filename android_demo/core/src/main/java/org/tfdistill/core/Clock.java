package org.tfdistill.core;

/** A monotonic time source; injected so that timing code can be tested with a fake clock. */
public interface Clock {
  /** The system's monotonic clock ({@link System#nanoTime}), never the wall clock. */
  Clock SYSTEM = System::nanoTime;

  /** Returns a monotonic time in nanoseconds; only differences are meaningful. */
  long nanoTime();

  /** Milliseconds elapsed since {@code startNanos}, a value of {@link #nanoTime}. */
  default double millisSince(long startNanos) {
    return (nanoTime() - startNanos) / 1e6;
  }
}
