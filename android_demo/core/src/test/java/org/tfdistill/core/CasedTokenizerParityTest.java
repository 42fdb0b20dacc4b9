package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cased models: the Java tokenizer follows the casing a model card records, with the ids the
 * Python tokenizer gives when it loads a package folder holding the same card
 * ({@code cased_tokenizer_fixture.jsonl}, written by android_demo/tools/make_tokenizer_fixture.py
 * on a made-up vocabulary where "Film", "film" and "FILM" are different tokens).
 */
class CasedTokenizerParityTest {
  private static final String FIXTURE = "cased_tokenizer_fixture.jsonl";

  private static Map<?, ?> header;
  private static String[] lines;
  private static Vocab vocab;

  @TempDir File folder;

  @BeforeAll
  static void loadFixture() throws IOException {
    lines = Fixtures.resource(FIXTURE).split("\n");
    header = (Map<?, ?>) Json.parse(lines[0]);
    List<String> tokens = new ArrayList<>();
    for (Object token : (List<?>) header.get("vocab")) {
      tokens.add((String) token);
    }
    vocab = Vocab.of(tokens);
  }

  @Test
  void everyCasingOfTheFixtureMatchesPython() {
    List<?> cards = (List<?>) header.get("cards");
    assertEquals((long) (lines.length - 1), header.get("count"), "header count vs lines");
    assertEquals(4, cards.size(), "cased, uncased and the two mixed casings");
    int seqLen = ((Long) header.get("seq_len")).intValue();
    List<String> mismatches = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      Map<?, ?> record = (Map<?, ?>) Json.parse(lines[i]);
      String card = (String) cards.get(((Long) record.get("card")).intValue());
      BertTokenizer tokenizer = new BertTokenizer(vocab, ModelCard.parse(card).casing());
      String mismatch = Fixtures.mismatch(tokenizer, record, seqLen);
      if (mismatch != null) {
        mismatches.add("line " + (i + 1) + " " + card + " " + mismatch);
      }
    }
    if (!mismatches.isEmpty()) {
      fail(mismatches.size() + " cased cases differ from Python:\n" + String.join("\n",
          mismatches.subList(0, Math.min(10, mismatches.size()))));
    }
  }

  @Test
  void aPackageWithACasedCardKeepsTheCase() throws IOException {
    // [CLS] The Film [SEP]: the capitalised tokens, not "the film".
    ModelPackage cased = loadPackage("\"do_lower_case\": false, \"strip_accents\": false",
        Casing.CASED, new int[] {2, 8, 11, 3, 0, 0, 0, 0});
    assertEquals(Arrays.asList("Caf\u00e9", "CAF\u00c9"),
        cased.tokenizer().tokenize("Caf\u00e9 CAF\u00c9"));
  }

  @Test
  void aPackageWithoutCasingIsUncased() throws IOException {
    loadPackage("\"mode\": \"int8\"", Casing.UNCASED, new int[] {2, 9, 12, 3, 0, 0, 0, 0});
  }

  @Test
  void olderCardsRecordTheCasingInTheirTokenizerEntry() {
    ModelCard card = ModelCard.parse("{\"seq_len\": 8, \"inputs\": [\"input_ids\"], \"outputs\":"
        + " [\"logits\"], \"tokenizer\": {\"do_lower_case\": false, \"strip_accents\": null,"
        + " \"vocab_size\": 50}}");
    assertEquals(Casing.CASED, card.casing());
    assertEquals(50, card.vocabSize());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelCard.parse("{\"seq_len\": 8, \"inputs\": [\"a\"], \"outputs\": [\"b\"],"
            + " \"do_lower_case\": \"no\"}"));
    assertTrue(e.getMessage().contains("do_lower_case"), e.getMessage());
  }

  @Test
  void aVocabularyOfAnotherExportIsRefused() throws IOException {
    writePackage("\"tokenizer\": {\"vocab_size\": 30522}");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelPackage.load(folder));
    assertTrue(e.getMessage().contains("vocab.txt has " + vocab.size() + " tokens"),
        e.getMessage());
    assertTrue(e.getMessage().contains("30522"), e.getMessage());
  }

  /** Loads a package with the card fields given; checks its casing and the ids of "The Film". */
  private ModelPackage loadPackage(String cardFields, Casing casing, int[] theFilm)
      throws IOException {
    writePackage(cardFields);
    ModelPackage modelPackage = ModelPackage.load(folder);
    assertEquals(casing, modelPackage.tokenizer().casing());
    assertArrayEquals(theFilm, modelPackage.inputsFor("The Film").get("input_ids"));
    return modelPackage;
  }

  private void writePackage(String cardFields) throws IOException {
    write(ModelPackage.CARD, "{\"seq_len\": 8, \"inputs\": [\"input_ids\"], \"outputs\":"
        + " [\"logits\"], \"labels\": [\"neg\", \"pos\"], " + cardFields + "}");
    write(ModelPackage.LABELS, "neg\npos\n");
    StringBuilder text = new StringBuilder();
    for (int id = 0; id < vocab.size(); id++) {
      text.append(vocab.token(id)).append('\n');
    }
    write(ModelPackage.VOCAB, text.toString());
  }

  private void write(String name, String text) throws IOException {
    try (OutputStream out = new FileOutputStream(new File(folder, name))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
