package org.tfdistill.core;

import java.util.List;

/**
 * Greedy longest-match-first WordPiece, as Hugging Face {@code models.WordPiece}: a word is cut
 * into the longest vocabulary prefix, then the longest {@code ##}-prefixed continuation, and so
 * on; if any remainder has no match, or the word is too long, the whole word is {@code [UNK]}.
 */
final class WordPiece {
  /** Words longer than this many code points become [UNK] (the BERT default). */
  static final int MAX_INPUT_CHARS_PER_WORD = 100;

  static final String CONTINUATION_PREFIX = "##";

  private final Vocab vocab;
  private final int unkId;

  WordPiece(Vocab vocab, int unkId) {
    this.vocab = vocab;
    this.unkId = unkId;
  }

  /** Appends the ids of {@code word} to {@code ids}. */
  void tokenize(String word, List<Integer> ids) {
    if (word.codePointCount(0, word.length()) > MAX_INPUT_CHARS_PER_WORD) {
      ids.add(unkId);
      return;
    }
    int firstPiece = ids.size();
    int start = 0;
    while (start < word.length()) {
      int end = word.length();
      int id = -1;
      while (start < end) {
        String piece = word.substring(start, end);
        id = vocab.idOf(start > 0 ? CONTINUATION_PREFIX + piece : piece);
        if (id >= 0) {
          break;
        }
        // Shrink by one code point, never splitting a surrogate pair.
        end -= Character.charCount(word.codePointBefore(end));
      }
      if (id < 0) {
        ids.subList(firstPiece, ids.size()).clear();
        ids.add(unkId);
        return;
      }
      ids.add(id);
      start = end;
    }
  }
}
