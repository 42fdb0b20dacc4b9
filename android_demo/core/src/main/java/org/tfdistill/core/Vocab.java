package org.tfdistill.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A WordPiece vocabulary: the lines of {@code vocab.txt}, each token's id being its line index. */
public final class Vocab {
  private final List<String> tokens;
  private final Map<String, Integer> ids;

  private Vocab(List<String> tokens) {
    this.tokens = Collections.unmodifiableList(tokens);
    this.ids = new HashMap<>(tokens.size() * 2);
    for (int id = 0; id < tokens.size(); id++) {
      Integer previous = ids.put(tokens.get(id), id);
      if (previous != null) {
        throw new IllegalArgumentException(
            "The vocabulary repeats '" + tokens.get(id) + "' (lines " + (previous + 1) + " and "
                + (id + 1) + "); every token must appear once.");
      }
    }
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException("The vocabulary is empty; pass the model's vocab.txt.");
    }
  }

  /**
   * Builds a vocabulary from tokens in id order.
   *
   * @throws IllegalArgumentException if a token repeats or the list is empty
   */
  public static Vocab of(List<String> tokens) {
    return new Vocab(new java.util.ArrayList<>(tokens));
  }

  /** Reads {@code vocab.txt} from a stream (an Android asset, a resource), closing it. */
  public static Vocab load(InputStream vocabTxt) throws IOException {
    return of(TextLines.read(vocabTxt));
  }

  /** Reads {@code vocab.txt} from a file. */
  public static Vocab load(File vocabTxt) throws IOException {
    return load(TextLines.open(vocabTxt));
  }

  /** Returns the id of {@code token}, or -1 if it is not in the vocabulary. */
  public int idOf(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  /**
   * Returns the id of a token that must be present, such as {@code [CLS]}.
   *
   * @throws IllegalArgumentException naming the token if it is missing
   */
  public int requireId(String token) {
    int id = idOf(token);
    if (id < 0) {
      throw new IllegalArgumentException(
          "The vocabulary lacks " + token + "; use the vocab.txt of a BERT model.");
    }
    return id;
  }

  /** Returns the token with id {@code id}. */
  public String token(int id) {
    return tokens.get(id);
  }

  public int size() {
    return tokens.size();
  }
}
