package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Students with a trimmed vocabulary ({@code tfdistill.compress.trim_vocabulary}): the Java
 * tokenizer gives the ids the Python tokenizer gives with the same trimmed {@code vocab.txt}
 * ({@code trimmed_tokenizer_fixture.jsonl}, written by
 * android_demo/tools/make_tokenizer_fixture.py), also for words the vocabulary lacks, which both
 * spell with shorter pieces.
 */
class TrimmedTokenizerParityTest {
  private static final String FIXTURE = "trimmed_tokenizer_fixture.jsonl";

  @Test
  void everyTextOfTheFixtureMatchesPython() throws IOException {
    String[] lines = Fixtures.resource(FIXTURE).split("\n");
    Map<?, ?> header = (Map<?, ?>) Json.parse(lines[0]);
    List<String> tokens = new ArrayList<>();
    for (Object token : (List<?>) header.get("vocab")) {
      tokens.add((String) token);
    }
    assertTrue(tokens.size() < 30522 / 3, "a trimmed vocabulary: " + tokens.size() + " tokens");
    assertEquals((long) (lines.length - 1), header.get("count"), "header count vs lines");
    BertTokenizer tokenizer = new BertTokenizer(Vocab.of(tokens), Casing.UNCASED);
    int seqLen = ((Long) header.get("seq_len")).intValue();
    List<String> mismatches = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      String mismatch = Fixtures.mismatch(tokenizer, (Map<?, ?>) Json.parse(lines[i]), seqLen);
      if (mismatch != null) {
        mismatches.add("line " + (i + 1) + " " + mismatch);
      }
    }
    if (!mismatches.isEmpty()) {
      fail(mismatches.size() + " trimmed-vocabulary cases differ from Python:\n" + String.join("\n",
          mismatches.subList(0, Math.min(10, mismatches.size()))));
    }
  }
}
