package org.tfdistill.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files of an exported model package, loaded and checked against each other: the card's
 * inputs must be ones the tokenizer produces, its labels (if it lists them) must be those of
 * {@code labels.txt}, and its vocabulary size (if recorded) that of {@code vocab.txt}. The
 * tokenizer follows the casing the card records, so a cased model gets cased input.
 */
public final class ModelPackage {
  public static final String MODEL = "model.tflite";
  public static final String VOCAB = "vocab.txt";
  public static final String LABELS = "labels.txt";
  public static final String CARD = "model_card.json";

  private static final List<String> TOKENIZER_OUTPUTS =
      Arrays.asList(Encoding.INPUT_IDS, Encoding.ATTENTION_MASK, Encoding.TOKEN_TYPE_IDS);

  /** Opens a file of the package by name: a folder on the JVM, the assets on Android. */
  public interface Files {
    InputStream open(String name) throws IOException;
  }

  private final ModelCard card;
  private final Labels labels;
  private final BertTokenizer tokenizer;

  private ModelPackage(ModelCard card, Labels labels, BertTokenizer tokenizer) {
    this.card = card;
    this.labels = labels;
    this.tokenizer = tokenizer;
  }

  /**
   * Loads {@code model_card.json}, {@code labels.txt} and {@code vocab.txt}.
   *
   * @throws IOException if a file is missing or unreadable
   * @throws IllegalArgumentException if a file is malformed or the files disagree
   */
  public static ModelPackage load(Files files) throws IOException {
    ModelCard card = ModelCard.load(files.open(CARD));
    Labels labels = Labels.load(files.open(LABELS));
    BertTokenizer tokenizer = BertTokenizer.load(files.open(VOCAB), card.casing());
    for (String input : card.inputs()) {
      if (!TOKENIZER_OUTPUTS.contains(input)) {
        throw new IllegalArgumentException("model_card.json lists input \"" + input
            + "\", but the tokenizer only produces " + TOKENIZER_OUTPUTS + ".");
      }
    }
    if (!card.labels().isEmpty() && !card.labels().equals(labels.names())) {
      throw new IllegalArgumentException("labels.txt " + labels.names()
          + " disagrees with model_card.json " + card.labels() + "; re-export the package.");
    }
    if (card.vocabSize() >= 0 && card.vocabSize() != tokenizer.vocab().size()) {
      throw new IllegalArgumentException("vocab.txt has " + tokenizer.vocab().size()
          + " tokens but model_card.json says the model's vocabulary has " + card.vocabSize()
          + "; the files come from different exports. Copy the package again from one export.");
    }
    return new ModelPackage(card, labels, tokenizer);
  }

  /** Loads a package from a folder (as written by the exporter). */
  public static ModelPackage load(final File folder) throws IOException {
    return load(new Files() {
      @Override
      public InputStream open(String name) throws IOException {
        return TextLines.open(new File(folder, name));
      }
    });
  }

  public ModelCard card() {
    return card;
  }

  public Labels labels() {
    return labels;
  }

  public BertTokenizer tokenizer() {
    return tokenizer;
  }

  /**
   * Encodes {@code text} at the card's sequence length into exactly the inputs the card names,
   * keyed by name (the form {@link InferenceEngine#run} takes).
   */
  public Map<String, int[]> inputsFor(String text) {
    Map<String, int[]> all = tokenizer.encode(text, card.seqLen()).asModelInputs();
    Map<String, int[]> inputs = new LinkedHashMap<>();
    for (String name : card.inputs()) {
      inputs.put(name, all.get(name));
    }
    return inputs;
  }
}
