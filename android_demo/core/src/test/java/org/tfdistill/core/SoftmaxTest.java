package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SoftmaxTest {
  @Test
  void matchesTheDefinition() {
    float[] p = Softmax.apply(new float[] {1f, 2f, 3f});
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertArrayEquals(new float[] {(float) (Math.exp(1) / z), (float) (Math.exp(2) / z),
        (float) (Math.exp(3) / z)}, p, 1e-7f);
  }

  @Test
  void staysFiniteOnHugeLogits() {
    assertArrayEquals(new float[] {0.5f, 0.5f}, Softmax.apply(new float[] {1e30f, 1e30f}), 0f);
    assertArrayEquals(new float[] {1f, 0f}, Softmax.apply(new float[] {1000f, -1000f}), 0f);
  }

  @Test
  void argmaxTakesTheFirstOfTies() {
    assertEquals(1, Softmax.argmax(new float[] {0f, 2f, 2f}));
  }

  @Test
  void rejectsEmptyAndNaN() {
    assertThrows(IllegalArgumentException.class, () -> Softmax.apply(new float[0]));
    assertThrows(IllegalArgumentException.class, () -> Softmax.apply(new float[] {Float.NaN}));
  }
}
