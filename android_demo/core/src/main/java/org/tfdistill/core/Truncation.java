package org.tfdistill.core;

/**
 * How many tokens of each segment survive truncation, as Hugging Face {@code longest_first}.
 *
 * <p>Its rule is not "drop from the longer one, token by token" but a closed form, reproduced
 * here exactly because the two differ when both segments are long: keep the shorter segment
 * whole if the longer one can absorb the cut; otherwise split the budget in half, the first
 * segment getting the odd token only when it is the longer one.
 */
final class Truncation {
  private Truncation() {}

  /**
   * Returns {@code {keptA, keptB}} for segments of {@code lengthA} and {@code lengthB} tokens and
   * a budget of {@code maxTokens} (the sequence length minus the special tokens).
   */
  static int[] longestFirst(int lengthA, int lengthB, int maxTokens) {
    if (lengthA + lengthB <= maxTokens) {
      return new int[] {lengthA, lengthB};
    }
    boolean swapped = lengthA > lengthB;
    int shorter = Math.min(lengthA, lengthB);
    int longer;
    if (shorter > maxTokens) {
      longer = shorter;
    } else {
      longer = Math.max(shorter, maxTokens - shorter);
    }
    if (shorter + longer > maxTokens) {
      shorter = maxTokens / 2;
      longer = shorter + maxTokens % 2;
    }
    int keptA = swapped ? longer : shorter;
    int keptB = swapped ? shorter : longer;
    return new int[] {Math.min(keptA, lengthA), Math.min(keptB, lengthB)};
  }
}
