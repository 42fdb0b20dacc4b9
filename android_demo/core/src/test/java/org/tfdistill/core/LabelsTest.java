package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class LabelsTest {
  @Test
  void readsOneNamePerLineWithAnyLineEnding() throws Exception {
    Labels labels = Labels.load(stream("fresh\r\nrotten\n"));
    assertEquals(Arrays.asList("fresh", "rotten"), labels.names());
    assertEquals("rotten", labels.get(1));
    assertEquals(2, Labels.load(stream("fresh\nrotten")).size());
  }

  @Test
  void rejectsEmptyBlankAndRepeatedNames() {
    assertThrows(IllegalArgumentException.class, () -> Labels.load(stream("")));
    assertThrows(IllegalArgumentException.class, () -> Labels.load(stream("a\n \nb\n")));
    assertThrows(IllegalArgumentException.class, () -> Labels.of(Arrays.asList("a", "a")));
    assertThrows(IllegalArgumentException.class, () -> Labels.of(Collections.<String>emptyList()));
  }

  private static ByteArrayInputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }
}
