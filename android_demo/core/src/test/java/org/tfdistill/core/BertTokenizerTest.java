package org.tfdistill.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** Behaviour of each tokenizer stage on a hand-made vocabulary (see {@link Fixtures#tinyVocab}). */
class BertTokenizerTest {
  private final BertTokenizer tokenizer = new BertTokenizer(Fixtures.tinyVocab());

  @Test
  void lowercasesSplitsPunctuationAndUsesContinuationPieces() {
    assertEquals(Arrays.asList("the", "film", "##s", ",", "un", "##believ", "##able", "!"),
        tokenizer.tokenize("The FILMS, unbelievable!"));
  }

  @Test
  void encodesWithSpecialTokensMaskAndPadding() {
    Encoding encoding = tokenizer.encode("good film", 6);
    assertArrayEquals(new int[] {2, 8, 6, 3, 0, 0}, encoding.inputIds());
    assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, encoding.attentionMask());
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0}, encoding.tokenTypeIds());
    assertEquals(4, encoding.length());
  }

  @Test
  void stripsAccentsAndDropsControlCharacters() {
    assertEquals(Collections.singletonList("cafe"), tokenizer.tokenize("Caf\u00e9"));
    assertEquals(Collections.singletonList("cafe"), tokenizer.tokenize("Cafe\u0301"));
    assertEquals(Collections.singletonList("cafe"), tokenizer.tokenize("ca\u0000f\u200be"));
  }

  @Test
  void keepsEmojiWholeAndSplitsCjkIntoWords() {
    // U+1F600 is two UTF-16 units but one character and one vocabulary entry.
    assertEquals(Arrays.asList("a", "\uD83D\uDE00", "a"), tokenizer.tokenize("a \uD83D\uDE00 a"));
    // An emoji is neither punctuation nor CJK: glued to letters it stays in their word.
    assertEquals(Collections.singletonList("[UNK]"), tokenizer.tokenize("a\uD83D\uDE00a"));
    assertEquals(Arrays.asList("a", "\u6211", "a"), tokenizer.tokenize("a\u6211a"));
  }

  @Test
  void lowercasesFinalSigmaPerCharacterLikePython() {
    // String.toLowerCase would give a final 'ς' here; the Python tokenizer gives 'σ'.
    assertEquals(Collections.singletonList("sigma\u03c3"), tokenizer.tokenize("SIGMA\u03a3"));
  }

  @Test
  void unknownOrOverlongWordsBecomeOneUnk() {
    assertEquals(Collections.singletonList("[UNK]"), tokenizer.tokenize("filmz"));
    assertEquals(Collections.singletonList("[UNK]"), tokenizer.tokenize(repeat("a", 101)));
    assertEquals(100, tokenizer.tokenize(repeat("a", 100)).size());
    // The limit counts characters, not UTF-16 units: 60 emoji are 120 units but 60 characters.
    assertEquals(Collections.singletonList("[UNK]"),
        tokenizer.tokenize(repeat("\uD83D\uDE00", 60)));
  }

  @Test
  void literalSpecialTokensStayWhole() {
    assertEquals(Arrays.asList("film", "[SEP]", "good", "[MASK]"),
        tokenizer.tokenize("film[SEP]good [MASK]"));
    assertEquals(Arrays.asList("[UNK]", "[UNK]", "[UNK]"), tokenizer.tokenize("[sep]"));
  }

  @Test
  void truncatesSingleTextsToTheSequenceLength() {
    Encoding encoding = tokenizer.encode("good good good good good", 4);
    assertArrayEquals(new int[] {2, 8, 8, 3}, encoding.inputIds());
  }

  @Test
  void encodesPairsWithTokenTypesAndLongestFirstTruncation() {
    Encoding encoding = tokenizer.encode("good film", "the", 8);
    assertArrayEquals(new int[] {2, 8, 6, 3, 5, 3, 0, 0}, encoding.inputIds());
    assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 0, 0}, encoding.tokenTypeIds());
    Encoding truncated = tokenizer.encode("good good good good", "the the", 7);
    assertArrayEquals(new int[] {2, 8, 8, 3, 5, 5, 3}, truncated.inputIds());
  }

  @Test
  void rejectsSequencesTooShortForTheSpecialTokens() {
    assertThrows(IllegalArgumentException.class, () -> tokenizer.encode("good", 1));
    assertThrows(IllegalArgumentException.class, () -> tokenizer.encode("good", "film", 2));
    assertThrows(NullPointerException.class, () -> tokenizer.encode(null, 8));
  }

  @Test
  void requiresTheBertSpecialTokens() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BertTokenizer(Vocab.of(Arrays.asList("[PAD]", "[UNK]", "[CLS]"))));
    assertEquals(true, e.getMessage().contains("[SEP]"));
  }

  @Test
  void dropsLoneSurrogates() {
    assertEquals(Collections.singletonList("film"), tokenizer.tokenize("fi\uD83Dlm"));
  }

  private static String repeat(String s, int times) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < times; i++) {
      out.append(s);
    }
    return out.toString();
  }
}
