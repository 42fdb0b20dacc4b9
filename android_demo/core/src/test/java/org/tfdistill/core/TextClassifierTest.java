package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelPackage loading and TextClassifier end to end, with a fake engine. */
class TextClassifierTest {
  private static final String CARD = "{\"seq_len\": 8, \"inputs\": [\"input_ids\","
      + " \"attention_mask\"], \"outputs\": [\"logits\"], \"labels\": [\"fresh\", \"rotten\"]}";

  @TempDir File folder;

  @Test
  void classifiesWithTheCardsInputsAndLabels() throws IOException {
    ModelPackage modelPackage = loadPackage(CARD, "fresh\nrotten\n");
    FakeClock clock = new FakeClock();
    FakeEngine engine = new FakeEngine(clock, "logits", new float[] {2f, 0f}, 4);

    Prediction prediction = new TextClassifier(modelPackage, engine, clock).classify("good film");

    assertEquals("fresh", prediction.label());
    assertEquals(1 / (1 + Math.exp(-2)), prediction.probability(), 1e-6);
    assertEquals(4.0, prediction.inferenceMs(), 1e-9);
    Map<String, int[]> inputs = engine.calls.get(0);
    assertEquals(Arrays.asList("input_ids", "attention_mask"),
        Arrays.asList(inputs.keySet().toArray()));
    assertArrayEquals(new int[] {2, 8, 6, 3, 0, 0, 0, 0}, inputs.get("input_ids"));
    assertTrue(prediction.format().startsWith("fresh ("), prediction.format());
  }

  @Test
  void rejectsALabelCountThatDoesNotMatchTheLogits() throws IOException {
    ModelPackage modelPackage = loadPackage(CARD, "fresh\nrotten\n");
    FakeClock clock = new FakeClock();
    FakeEngine engine = new FakeEngine(clock, "logits", new float[] {1f, 2f, 3f});
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new TextClassifier(modelPackage, engine, clock).classify("x"));
    assertTrue(e.getMessage().contains("3 logits for 2 labels"), e.getMessage());
  }

  @Test
  void rejectsPackagesWhoseFilesDisagree() throws IOException {
    writePackage(CARD, "rotten\nfresh\n");
    assertThrows(IllegalArgumentException.class, () -> ModelPackage.load(folder));
    writePackage(CARD.replace("attention_mask", "pixels"), "fresh\nrotten\n");
    assertThrows(IllegalArgumentException.class, () -> ModelPackage.load(folder));
  }

  @Test
  void namesAMissingFile() {
    IOException e = assertThrows(IOException.class, () -> ModelPackage.load(folder));
    assertTrue(e.getMessage().contains(ModelPackage.CARD), e.getMessage());
  }

  private ModelPackage loadPackage(String card, String labels) throws IOException {
    writePackage(card, labels);
    return ModelPackage.load(folder);
  }

  private void writePackage(String card, String labels) throws IOException {
    write(ModelPackage.CARD, card);
    write(ModelPackage.LABELS, labels);
    StringBuilder vocab = new StringBuilder();
    for (int id = 0; id < Fixtures.tinyVocab().size(); id++) {
      vocab.append(Fixtures.tinyVocab().token(id)).append('\n');
    }
    write(ModelPackage.VOCAB, vocab.toString());
  }

  private void write(String name, String text) throws IOException {
    try (OutputStream out = new FileOutputStream(new File(folder, name))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
