package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CodePointSetTest {
  @Test
  void containsExactlyTheRanges() {
    CodePointSet set = CodePointSet.ofRanges(new int[] {10, 12, 20, 20, 0x1F600, 0x1F64F});
    for (int cp : new int[] {10, 11, 12, 20, 0x1F600, 0x1F64F}) {
      assertTrue(set.contains(cp), Integer.toHexString(cp));
    }
    for (int cp : new int[] {0, 9, 13, 19, 21, 0x1F5FF, 0x1F650, 0x10FFFF}) {
      assertFalse(set.contains(cp), Integer.toHexString(cp));
    }
  }

  @Test
  void rejectsMalformedRanges() {
    assertThrows(IllegalArgumentException.class, () -> CodePointSet.ofRanges(new int[] {1}));
    assertThrows(IllegalArgumentException.class, () -> CodePointSet.ofRanges(new int[] {5, 4}));
    assertThrows(IllegalArgumentException.class,
        () -> CodePointSet.ofRanges(new int[] {1, 5, 5, 6}));
  }

  @Test
  void generatedTablesHoldTheExpectedClasses() {
    assertTrue(UnicodeTables.CONTROL.contains(0));
    assertTrue(UnicodeTables.CONTROL.contains(0xFFFD));
    assertFalse(UnicodeTables.CONTROL.contains('\t'));
    assertTrue(UnicodeTables.WHITESPACE.contains(0x3000));
    assertTrue(UnicodeTables.PUNCTUATION.contains('$'));
    assertTrue(UnicodeTables.PUNCTUATION.contains(0x201C));
    assertTrue(UnicodeTables.NONSPACING_MARK.contains(0x301));
    assertTrue(UnicodeTables.CJK.contains(0x6211));
    assertFalse(UnicodeTables.CJK.contains(0x3042)); // Hiragana is not split out.
  }
}
