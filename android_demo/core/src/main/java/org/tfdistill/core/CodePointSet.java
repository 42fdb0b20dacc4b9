package org.tfdistill.core;

/** An immutable set of Unicode code points stored as sorted, disjoint, inclusive ranges. */
final class CodePointSet {
  private final int[] starts;
  private final int[] ends;

  private CodePointSet(int[] starts, int[] ends) {
    this.starts = starts;
    this.ends = ends;
  }

  /**
   * Builds a set from {@code start0, end0, start1, end1, ...}.
   *
   * @throws IllegalArgumentException if the list has odd length or the ranges are unsorted or
   *     overlapping (binary search relies on both)
   */
  static CodePointSet ofRanges(int[] bounds) {
    if (bounds.length % 2 != 0) {
      throw new IllegalArgumentException("Ranges need start/end pairs, got " + bounds.length);
    }
    int n = bounds.length / 2;
    int[] starts = new int[n];
    int[] ends = new int[n];
    for (int i = 0; i < n; i++) {
      starts[i] = bounds[2 * i];
      ends[i] = bounds[2 * i + 1];
      if (ends[i] < starts[i] || (i > 0 && starts[i] <= ends[i - 1])) {
        throw new IllegalArgumentException("Range " + i + " is empty, unsorted or overlapping");
      }
    }
    return new CodePointSet(starts, ends);
  }

  boolean contains(int codePoint) {
    int lo = 0;
    int hi = starts.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (codePoint < starts[mid]) {
        hi = mid - 1;
      } else if (codePoint > ends[mid]) {
        lo = mid + 1;
      } else {
        return true;
      }
    }
    return false;
  }
}
