package org.tfdistill.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits normalized text into words as Hugging Face {@code BertPreTokenizer}: whitespace
 * separates words and is dropped, and every punctuation character is a word of its own.
 */
final class BertPreTokenizer {
  private BertPreTokenizer() {}

  static List<String> split(String text) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (UnicodeTables.WHITESPACE.contains(cp)) {
        flush(word, words);
      } else if (UnicodeTables.PUNCTUATION.contains(cp)) {
        flush(word, words);
        words.add(new String(Character.toChars(cp)));
      } else {
        word.appendCodePoint(cp);
      }
    }
    flush(word, words);
    return words;
  }

  private static void flush(StringBuilder word, List<String> words) {
    if (word.length() > 0) {
      words.add(word.toString());
      word.setLength(0);
    }
  }
}
