package org.tfdistill.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

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
}
