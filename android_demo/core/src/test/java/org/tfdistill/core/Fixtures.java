package org.tfdistill.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Test inputs: classpath fixtures, the teacher's vocab.txt and a tiny hand-made vocabulary. */
final class Fixtures {
  static final String VOCAB_PROPERTY = "tfdistill.vocab";

  private Fixtures() {}

  static String resource(String name) throws IOException {
    InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException(name + " is not on the test classpath; run"
          + " android_demo/core/run_tests.sh (it copies src/test/resources) or regenerate it"
          + " with android_demo/tools/make_tokenizer_fixture.py.");
    }
    return TextLines.readAll(in);
  }

  /** The teacher's vocab.txt, passed in by run_tests.sh so that it is not copied into the repo. */
  static File teacherVocab() {
    String path = System.getProperty(VOCAB_PROPERTY);
    if (path == null || !new File(path).isFile()) {
      throw new IllegalStateException("System property " + VOCAB_PROPERTY + " must name the"
          + " teacher's vocab.txt (got " + path + "); run the tests with"
          + " android_demo/core/run_tests.sh.");
    }
    return new File(path);
  }

  /** A vocabulary small enough to reason about by hand; ids are list positions. */
  static Vocab tinyVocab() {
    List<String> tokens = Arrays.asList(
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", // 0-4
        "the", "film", "##s", "good", "un", "##believ", "##able", // 5-11
        ",", "!", "cafe", "\u6211", "\uD83D\uDE00", "a", "##a", "sigma\u03c3"); // 12-19
    return Vocab.of(tokens);
  }

  /**
   * Encodes a fixture record ({@code text}, optional {@code pair}, {@code input_ids} and
   * {@code token_type_ids} cut after the last real token) and returns how the Java ids differ
   * from Python's, or null when they are equal.
   */
  static String mismatch(BertTokenizer tokenizer, Map<?, ?> record, int seqLen) {
    String text = (String) record.get("text");
    int[] expected = toInts((List<?>) record.get("input_ids"));
    Encoding actual = tokenizer.encode(text, (String) record.get("pair"), seqLen);
    int[] types = record.containsKey("token_type_ids")
        ? toInts((List<?>) record.get("token_type_ids")) : new int[expected.length];
    int[] ids = Arrays.copyOf(actual.inputIds(), actual.length());
    if (Arrays.equals(expected, ids)
        && Arrays.equals(types, Arrays.copyOf(actual.tokenTypeIds(), actual.length()))) {
      return null;
    }
    return "text=" + text + "\n  python " + Arrays.toString(expected) + "\n  java   "
        + Arrays.toString(ids);
  }

  static int[] toInts(List<?> values) {
    int[] ints = new int[values.size()];
    for (int i = 0; i < ints.length; i++) {
      ints[i] = ((Long) values.get(i)).intValue();
    }
    return ints;
  }
}
