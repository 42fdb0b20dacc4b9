package org.tfdistill.core;

import java.util.Map;

/** Text in, label and probabilities out: tokenizer, engine, softmax and labels put together. */
public final class TextClassifier {
  private final ModelPackage modelPackage;
  private final InferenceEngine engine;
  private final Clock clock;

  public TextClassifier(ModelPackage modelPackage, InferenceEngine engine, Clock clock) {
    this.modelPackage = modelPackage;
    this.engine = engine;
    this.clock = clock;
  }

  /**
   * Classifies one text.
   *
   * @throws IllegalStateException if the engine does not return the card's first output, or
   *     returns a different number of logits than there are labels
   */
  public Prediction classify(String text) {
    long start = clock.nanoTime();
    Map<String, int[]> inputs = modelPackage.inputsFor(text);
    double tokenizeMs = clock.millisSince(start);
    start = clock.nanoTime();
    Map<String, float[]> outputs = engine.run(inputs);
    double inferenceMs = clock.millisSince(start);

    String outputName = modelPackage.card().outputs().get(0);
    float[] logits = outputs.get(outputName);
    Labels labels = modelPackage.labels();
    if (logits == null) {
      throw new IllegalStateException("The model returned " + outputs.keySet()
          + " but not \"" + outputName + "\" named by model_card.json.");
    }
    if (logits.length != labels.size()) {
      throw new IllegalStateException("The model returned " + logits.length + " logits for "
          + labels.size() + " labels; labels.txt does not belong to this model.");
    }
    return new Prediction(labels, Softmax.apply(logits), tokenizeMs, inferenceMs);
  }
}
