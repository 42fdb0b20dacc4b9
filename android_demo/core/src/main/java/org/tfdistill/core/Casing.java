package org.tfdistill.core;

/**
 * How a BERT tokenizer treats letter case and accents: the {@code do_lower_case} and
 * {@code strip_accents} that {@code model_card.json} records for the model. A cased model
 * (do_lower_case false) has ids for "Film" and "film" both; lowercasing its input would turn
 * every capitalised word into the wrong token.
 *
 * <p>Semantics of Hugging Face's {@code BertNormalizer}: accents are stripped (NFD, then the
 * non-spacing marks dropped) before lowercasing; {@code strip_accents} null follows
 * {@code do_lower_case}.
 */
public final class Casing {
  /** Uncased BERT: lowercase and strip accents (the default of cards that do not say). */
  public static final Casing UNCASED = new Casing(true, true);
  /** Cased BERT: the text keeps its case and accents. */
  public static final Casing CASED = new Casing(false, false);

  private final boolean lowercase;
  private final boolean stripAccents;

  private Casing(boolean lowercase, boolean stripAccents) {
    this.lowercase = lowercase;
    this.stripAccents = stripAccents;
  }

  /**
   * Returns the casing of {@code do_lower_case} and {@code strip_accents}.
   *
   * @param stripAccents null: strip accents exactly when lowercasing
   */
  public static Casing of(boolean doLowerCase, Boolean stripAccents) {
    return new Casing(doLowerCase, stripAccents == null ? doLowerCase : stripAccents);
  }

  public boolean lowercase() {
    return lowercase;
  }

  public boolean stripAccents() {
    return stripAccents;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Casing && ((Casing) other).lowercase == lowercase
        && ((Casing) other).stripAccents == stripAccents;
  }

  @Override
  public int hashCode() {
    return (lowercase ? 2 : 0) + (stripAccents ? 1 : 0);
  }

  @Override
  public String toString() {
    return "Casing{do_lower_case=" + lowercase + ", strip_accents=" + stripAccents + "}";
  }
}
