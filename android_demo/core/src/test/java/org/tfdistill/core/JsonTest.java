package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void parsesNestedValues() {
    Map<?, ?> map = (Map<?, ?>) Json.parse(
        " {\"a\": [1, -2.5, 3e2, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": []} ");
    assertEquals(Arrays.asList(1L, -2.5, 300.0, true, false, null), map.get("a"));
    assertEquals("d", ((Map<?, ?>) map.get("b")).get("c"));
    assertTrue(((List<?>) map.get("e")).isEmpty());
  }

  @Test
  void decodesEscapesIncludingSurrogatePairs() {
    assertEquals("q\"\\/\b\f\n\r\t\u00e9\uD83D\uDE00",
        Json.parse("\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\""));
  }

  @Test
  void keepsIntegersExactAndFallsBackToDoubleWhenTooLarge() {
    assertEquals(9007199254740993L, Json.parse("9007199254740993"));
    assertEquals(1e20, Json.parse("100000000000000000000"));
    assertNull(Json.parse("null"));
  }

  @Test
  void rejectsMalformedInputWithItsOffset() {
    for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"a",
        "{\"a\":1,\"a\":2}", "[1] 2", "\"\u0001\"", "\"\\x\"", "-", "{1:2}"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("Invalid JSON at offset"), e.getMessage());
    }
  }
}
