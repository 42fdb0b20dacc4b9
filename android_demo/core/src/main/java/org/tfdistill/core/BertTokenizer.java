package org.tfdistill.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * BERT WordPiece tokenization with the ids of the Python side ({@code tfdistill.Tokenizer}, i.e.
 * Hugging Face {@code BertTokenizerFast}), uncased or cased as the model's {@link Casing} says
 * (a package's {@code model_card.json} records it): {@code [CLS] A [SEP]} or
 * {@code [CLS] A [SEP] B [SEP]} (token type 1 on {@code B [SEP]}), longest-first truncation,
 * padding with {@code [PAD]} to the sequence length.
 *
 * <p>Pipeline: special tokens written literally in the text ("[SEP]") are cut out first and kept
 * whole, as the Python side does; each remaining piece is normalized ({@link BertNormalizer}),
 * split into words ({@link BertPreTokenizer}) and cut into word pieces ({@link WordPiece}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class BertTokenizer {
  public static final String PAD = "[PAD]";
  public static final String UNK = "[UNK]";
  public static final String CLS = "[CLS]";
  public static final String SEP = "[SEP]";
  public static final String MASK = "[MASK]";

  private static final String[] SPECIAL_TOKENS = {PAD, UNK, CLS, SEP, MASK};

  private final Vocab vocab;
  private final Casing casing;
  private final WordPiece wordPiece;
  private final int padId;
  private final int clsId;
  private final int sepId;

  /**
   * An uncased tokenizer (lowercasing, accents stripped).
   *
   * @throws IllegalArgumentException if the vocabulary lacks [PAD], [UNK], [CLS] or [SEP]
   */
  public BertTokenizer(Vocab vocab) {
    this(vocab, Casing.UNCASED);
  }

  /**
   * A tokenizer with the model's casing ({@link ModelCard#casing()}).
   *
   * @throws IllegalArgumentException if the vocabulary lacks [PAD], [UNK], [CLS] or [SEP]
   */
  public BertTokenizer(Vocab vocab, Casing casing) {
    this.vocab = vocab;
    this.casing = casing;
    this.padId = vocab.requireId(PAD);
    this.clsId = vocab.requireId(CLS);
    this.sepId = vocab.requireId(SEP);
    this.wordPiece = new WordPiece(vocab, vocab.requireId(UNK));
  }

  /** Loads {@code vocab.txt} from a stream (e.g. an Android asset), closing it; uncased. */
  public static BertTokenizer load(InputStream vocabTxt) throws IOException {
    return new BertTokenizer(Vocab.load(vocabTxt));
  }

  /** Loads {@code vocab.txt} from a stream, closing it, for a model with {@code casing}. */
  public static BertTokenizer load(InputStream vocabTxt, Casing casing) throws IOException {
    return new BertTokenizer(Vocab.load(vocabTxt), casing);
  }

  /** Loads {@code vocab.txt} from a file; uncased. */
  public static BertTokenizer load(File vocabTxt) throws IOException {
    return new BertTokenizer(Vocab.load(vocabTxt));
  }

  public Vocab vocab() {
    return vocab;
  }

  public Casing casing() {
    return casing;
  }

  /** Encodes one text: {@code [CLS] text [SEP]}, truncated and padded to {@code seqLen}. */
  public Encoding encode(String text, int seqLen) {
    return encode(text, null, seqLen);
  }

  /**
   * Encodes a text pair (or one text when {@code pair} is null).
   *
   * @throws IllegalArgumentException if {@code seqLen} cannot hold the special tokens
   * @throws NullPointerException if {@code text} is null
   */
  public Encoding encode(String text, String pair, int seqLen) {
    if (text == null) {
      throw new NullPointerException("text is null; pass \"\" for an empty text.");
    }
    int specials = pair == null ? 2 : 3;
    if (seqLen < specials) {
      throw new IllegalArgumentException(
          "seqLen=" + seqLen + " is too small: " + (pair == null ? "[CLS] text [SEP]"
              : "[CLS] A [SEP] B [SEP]") + " needs at least " + specials + " positions.");
    }
    List<Integer> a = tokenIds(text);
    List<Integer> b = pair == null ? Collections.<Integer>emptyList() : tokenIds(pair);
    int[] kept = Truncation.longestFirst(a.size(), b.size(), seqLen - specials);

    int[] ids = new int[seqLen];
    int[] mask = new int[seqLen];
    int[] types = new int[seqLen];
    java.util.Arrays.fill(ids, padId);
    int n = 0;
    ids[n++] = clsId;
    for (int i = 0; i < kept[0]; i++) {
      ids[n++] = a.get(i);
    }
    ids[n++] = sepId;
    if (pair != null) {
      int firstTypeOne = n;
      for (int i = 0; i < kept[1]; i++) {
        ids[n++] = b.get(i);
      }
      ids[n++] = sepId;
      java.util.Arrays.fill(types, firstTypeOne, n, 1);
    }
    java.util.Arrays.fill(mask, 0, n, 1);
    return new Encoding(ids, mask, types, n);
  }

  /** Returns the word pieces of {@code text}, without special tokens or truncation. */
  public List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    for (int id : tokenIds(text)) {
      tokens.add(vocab.token(id));
    }
    return tokens;
  }

  private List<Integer> tokenIds(String text) {
    List<Integer> ids = new ArrayList<>();
    int pieceStart = 0;
    for (int i = 0; i < text.length(); ) {
      String special = specialTokenAt(text, i);
      if (special == null) {
        i++;
        continue;
      }
      tokenizeWords(text.substring(pieceStart, i), ids);
      ids.add(vocab.requireId(special));
      i += special.length();
      pieceStart = i;
    }
    tokenizeWords(text.substring(pieceStart), ids);
    return ids;
  }

  /** Returns the special token (present in the vocabulary) that starts at {@code index}. */
  private String specialTokenAt(String text, int index) {
    if (text.charAt(index) != '[') {
      return null;
    }
    for (String special : SPECIAL_TOKENS) {
      if (text.startsWith(special, index) && vocab.idOf(special) >= 0) {
        return special;
      }
    }
    return null;
  }

  private void tokenizeWords(String piece, List<Integer> ids) {
    if (piece.isEmpty()) {
      return;
    }
    for (String word : BertPreTokenizer.split(BertNormalizer.normalize(piece, casing))) {
      wordPiece.tokenize(word, ids);
    }
  }
}
