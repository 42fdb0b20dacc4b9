package org.tfdistill.core;

import java.text.Normalizer;

/**
 * The BERT normalizer, step for step as Hugging Face {@code BertNormalizer} with
 * {@code clean_text} and {@code handle_chinese_chars} on, and accent stripping and lowercasing
 * as the model's {@link Casing} says (both on for uncased models, both off for cased ones).
 *
 * <p>Everything iterates by code point: a Java {@code char} is a UTF-16 unit, and an emoji is two
 * of them, while the Python side sees one character.
 */
final class BertNormalizer {
  /** 'İ': its lowercase is two characters. */
  private static final int CAPITAL_I_WITH_DOT = 0x130;

  private BertNormalizer() {}

  static String normalize(String text, Casing casing) {
    String normalized = padChineseCharacters(clean(text));
    if (casing.stripAccents()) {
      normalized = stripAccents(normalized);
    }
    return casing.lowercase() ? lowercase(normalized) : normalized;
  }

  /** Drops control, format and private-use characters (and U+0000, U+FFFD); whitespace -> ' '. */
  static String clean(String text) {
    return transform(text, (cp, out) -> {
      if (UnicodeTables.CONTROL.contains(cp) || isLoneSurrogate(cp)) {
        return;
      }
      if (UnicodeTables.WHITESPACE.contains(cp)) {
        out.append(' ');
      } else {
        out.appendCodePoint(cp);
      }
    });
  }

  /** Surrounds each CJK ideograph with spaces so that it becomes a word of its own. */
  static String padChineseCharacters(String text) {
    return transform(text, (cp, out) -> {
      if (UnicodeTables.CJK.contains(cp)) {
        out.append(' ').appendCodePoint(cp).append(' ');
      } else {
        out.appendCodePoint(cp);
      }
    });
  }

  /** Decomposes to NFD and drops the non-spacing marks ("café" -> "cafe"). */
  static String stripAccents(String text) {
    return transform(Normalizer.normalize(text, Normalizer.Form.NFD), (cp, out) -> {
      if (!UnicodeTables.NONSPACING_MARK.contains(cp)) {
        out.appendCodePoint(cp);
      }
    });
  }

  /**
   * Lowercases code point by code point, as Rust's {@code char::to_lowercase} does.
   *
   * <p>Not {@code String.toLowerCase}: it maps a word-final capital sigma to 'ς' where the Python
   * side gives 'σ'. The one character whose lowercase is two characters, U+0130 ('İ'), becomes
   * "i" and a combining dot, as in Rust; {@code Character.toLowerCase} would drop the dot. (With
   * accent stripping, NFD has already split it into 'I' and a dropped dot.)
   */
  static String lowercase(String text) {
    return transform(text, (cp, out) -> {
      if (cp == CAPITAL_I_WITH_DOT) {
        out.append("i\u0307");
      } else {
        out.appendCodePoint(Character.toLowerCase(cp));
      }
    });
  }

  /** What one normalization step writes for one code point. */
  private interface CodePointStep {
    void apply(int codePoint, StringBuilder out);
  }

  private static String transform(String text, CodePointStep step) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      step.apply(cp, out);
    }
    return out.toString();
  }

  /**
   * A UTF-16 surrogate without its partner is not a character (Python cannot even pass one to
   * the Rust tokenizer); drop it rather than turn it into a token.
   */
  private static boolean isLoneSurrogate(int cp) {
    return cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE;
  }
}
