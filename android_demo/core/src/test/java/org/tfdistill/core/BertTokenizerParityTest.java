package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java tokenizer must give the Python tokenizer's ids, mask and types on every line of
 * {@code tokenizer_fixture.jsonl} (written by android_demo/tools/make_tokenizer_fixture.py from
 * tfdistill.Tokenizer): Rotten Tomatoes snippets, pairs, and hard cases.
 */
class BertTokenizerParityTest {
  private static final String FIXTURE = "tokenizer_fixture.jsonl";
  private static final int MIN_CASES = 1000;
  private static final int MAX_REPORTED = 10;

  private static BertTokenizer tokenizer;

  @BeforeAll
  static void loadTeacherVocab() throws IOException {
    tokenizer = BertTokenizer.load(Fixtures.teacherVocab());
  }

  @Test
  void everyFixtureLineMatchesPython() throws IOException {
    String[] lines = Fixtures.resource(FIXTURE).split("\n");
    Map<?, ?> header = (Map<?, ?>) Json.parse(lines[0]);
    int seqLen = ((Long) header.get("seq_len")).intValue();
    assertEquals((long) (lines.length - 1), header.get("count"), "header count vs lines");
    assertTrue(lines.length - 1 >= MIN_CASES, "the fixture must hold at least 1000 cases");

    List<String> mismatches = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      String mismatch = compare((Map<?, ?>) Json.parse(lines[i]), seqLen);
      if (mismatch != null) {
        mismatches.add("line " + (i + 1) + ": " + mismatch);
      }
    }
    if (!mismatches.isEmpty()) {
      fail(mismatches.size() + " of " + (lines.length - 1) + " cases differ from Python:\n"
          + String.join("\n", mismatches.subList(0, Math.min(MAX_REPORTED, mismatches.size()))));
    }
  }

  @Test
  void tokensOfAReviewReadAsExpected() {
    assertEquals(Arrays.asList("a", "gripping", "film", "."),
        tokenizer.tokenize("A gripping film."));
    // The documented example of tfdistill.Tokenizer, at max_length 8.
    assertArrayEquals(new int[] {101, 1037, 13940, 2143, 1012, 102, 0, 0},
        tokenizer.encode("A gripping film.", 8).inputIds());
  }

  /** Returns a description of the difference, or null if the encodings agree. */
  private static String compare(Map<?, ?> record, int seqLen) {
    String text = (String) record.get("text");
    String pair = (String) record.get("pair");
    int[] expectedIds = toInts((List<?>) record.get("input_ids"));
    int[] expectedTypes = record.containsKey("token_type_ids")
        ? toInts((List<?>) record.get("token_type_ids")) : new int[expectedIds.length];
    Encoding actual = tokenizer.encode(text, pair, seqLen);

    int n = expectedIds.length;
    int[] ids = new int[seqLen];
    int[] types = new int[seqLen];
    int[] mask = new int[seqLen];
    System.arraycopy(expectedIds, 0, ids, 0, n);
    System.arraycopy(expectedTypes, 0, types, 0, n);
    Arrays.fill(mask, 0, n, 1);
    if (Arrays.equals(ids, actual.inputIds()) && Arrays.equals(mask, actual.attentionMask())
        && Arrays.equals(types, actual.tokenTypeIds()) && actual.length() == n) {
      return null;
    }
    return "text=" + escape(text) + (pair == null ? "" : " pair=" + escape(pair))
        + "\n  python ids " + Arrays.toString(expectedIds)
        + " types " + Arrays.toString(expectedTypes)
        + "\n  java   ids " + Arrays.toString(Arrays.copyOf(actual.inputIds(), actual.length()))
        + " types " + Arrays.toString(Arrays.copyOf(actual.tokenTypeIds(), actual.length()));
  }

  private static int[] toInts(List<?> values) {
    int[] ints = new int[values.size()];
    for (int i = 0; i < ints.length; i++) {
      ints[i] = ((Long) values.get(i)).intValue();
    }
    return ints;
  }

  private static String escape(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < text.length() && i < 120; ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      boolean printable = cp >= 0x20 && cp < 0x7F;
      out.append(printable ? String.valueOf((char) cp) : String.format("\\u{%X}", cp));
    }
    return out.append(text.length() > 120 ? "...\"" : "\"").toString();
  }
}
