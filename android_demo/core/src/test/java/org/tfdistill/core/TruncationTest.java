package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** Hugging Face's longest_first closed form (tokenizers/src/utils/truncation.rs). */
class TruncationTest {
  @Test
  void keepsEverythingThatFits() {
    assertArrayEquals(new int[] {3, 4}, Truncation.longestFirst(3, 4, 7));
  }

  @Test
  void cutsOnlyTheLongerSegmentWhenThatSuffices() {
    assertArrayEquals(new int[] {3, 7}, Truncation.longestFirst(3, 20, 10));
    assertArrayEquals(new int[] {7, 3}, Truncation.longestFirst(20, 3, 10));
  }

  @Test
  void splitsTheBudgetWhenBothAreLong() {
    assertArrayEquals(new int[] {5, 5}, Truncation.longestFirst(30, 40, 10));
    // An odd budget gives the extra token to the longer segment (the second on a tie).
    assertArrayEquals(new int[] {5, 6}, Truncation.longestFirst(30, 40, 11));
    assertArrayEquals(new int[] {6, 5}, Truncation.longestFirst(40, 30, 11));
    assertArrayEquals(new int[] {5, 6}, Truncation.longestFirst(30, 30, 11));
  }

  @Test
  void handlesEmptySegments() {
    assertArrayEquals(new int[] {0, 10}, Truncation.longestFirst(0, 50, 10));
    assertArrayEquals(new int[] {10, 0}, Truncation.longestFirst(50, 0, 10));
  }
}
