package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ModelCardTest {
  // SHA-256 of the three bytes "abc" (FIPS 180-2 test vector).
  static final String ABC_SHA256 =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  static final String CARD = "{\"seq_len\": 64,"
      + " \"inputs\": [\"attention_mask\", \"input_ids\", \"token_type_ids\"],"
      + " \"outputs\": [\"logits\"], \"labels\": [\"fresh\", \"rotten\"], \"mode\": \"fp16\","
      + " \"size_bytes\": 3, \"sha256\": \"" + ABC_SHA256.toUpperCase() + "\","
      + " \"source\": \"runs/demo\", \"accuracy\": 0.81, \"exported_by\": {\"tool\": \"future\"}}";

  @Test
  void readsEveryFieldAndIgnoresUnknownKeys() {
    ModelCard card = ModelCard.parse(CARD);
    assertEquals(64, card.seqLen());
    assertEquals(Arrays.asList("attention_mask", "input_ids", "token_type_ids"), card.inputs());
    assertEquals(Arrays.asList("logits"), card.outputs());
    assertEquals(Arrays.asList("fresh", "rotten"), card.labels());
    assertEquals("fp16", card.mode());
    assertEquals(3, card.sizeBytes());
    assertEquals(ABC_SHA256, card.sha256());
    assertEquals("runs/demo", card.source());
    assertEquals(0.81, card.accuracy());
  }

  @Test
  void treatsMetadataAsOptional() {
    ModelCard card = ModelCard.parse(
        "{\"seq_len\": 8, \"inputs\": [\"input_ids\"], \"outputs\": [\"logits\"]}");
    assertTrue(card.labels().isEmpty());
    assertEquals(-1, card.sizeBytes());
    assertTrue(Double.isNaN(card.accuracy()));
  }

  @Test
  void namesTheOffendingKey() {
    assertMessage("\"seq_len\"", "{\"inputs\": [\"a\"], \"outputs\": [\"b\"]}");
    assertMessage("\"seq_len\"", "{\"seq_len\": 6.5, \"inputs\": [\"a\"], \"outputs\": [\"b\"]}");
    assertMessage("\"inputs\"", "{\"seq_len\": 6, \"inputs\": [], \"outputs\": [\"b\"]}");
    assertMessage("\"outputs\"", "{\"seq_len\": 6, \"inputs\": [\"a\"], \"outputs\": [1]}");
    assertMessage("\"mode\"",
        "{\"seq_len\": 6, \"inputs\": [\"a\"], \"outputs\": [\"b\"], \"mode\": 1}");
    assertMessage("JSON object", "[1]");
  }

  @Test
  void verifiesTheModelBytes() throws Exception {
    ModelCard card = ModelCard.parse(CARD);
    card.verifyModel(stream("abc"));
    IllegalStateException size =
        assertThrows(IllegalStateException.class, () -> card.verifyModel(stream("abcd")));
    assertTrue(size.getMessage().contains("4 bytes"), size.getMessage());
    IllegalStateException hash =
        assertThrows(IllegalStateException.class, () -> card.verifyModel(stream("abd")));
    assertTrue(hash.getMessage().contains("SHA-256"), hash.getMessage());
  }

  private static ByteArrayInputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static void assertMessage(String expected, String json) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelCard.parse(json));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
