package org.tfdistill.demo;

import android.content.Context;
import com.google.mediapipe.tasks.components.containers.Category;
import com.google.mediapipe.tasks.core.BaseOptions;
import com.google.mediapipe.tasks.core.Delegate;
import com.google.mediapipe.tasks.text.textclassifier.TextClassifier;
import com.google.mediapipe.tasks.text.textclassifier.TextClassifierResult;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfdistill.core.InferenceEngine;
import org.tfdistill.core.Labels;
import org.tfdistill.core.Softmax;

/**
 * MediaPipe Tasks' {@link TextClassifier} on the package's {@code text_classifier.tflite}.
 *
 * <p>Unlike {@link LiteRtEngine}, MediaPipe takes the text: it tokenizes with its own BERT
 * tokenizer, whose vocabulary is packed into the model with the labels (TFLite Model Metadata
 * written by tfdistill), and returns the model's one output, the class probabilities. Its
 * tokenizer lower-cases ASCII only and keeps accents, so a text with accented letters can get
 * other probabilities than the LiteRT backend gives it; elsewhere the two agree (tfdistill checks
 * this with MediaPipe's Python build of the same task: tests/test_mediapipe.py). MediaPipe picks
 * its own CPU threads; the thread choice does not apply.
 */
final class MediaPipeEngine implements AutoCloseable {
  /** The MediaPipe-ready model of a tfdistill package (model_card.json {@code "mediapipe"}). */
  static final String MODEL = "text_classifier.tflite";
  /** The output name under which {@link #forText} reports the probabilities. */
  static final String PROBABILITIES = "probabilities";

  private final TextClassifier classifier;
  private final Labels labels;

  /**
   * Loads {@code text_classifier.tflite} from the assets.
   *
   * @throws IllegalStateException if the asset is missing (a cased model has none; see the
   *     card's {@code "mediapipe"} entry) or MediaPipe refuses it
   */
  MediaPipeEngine(Context context, Labels labels) {
    requireAsset(context);
    BaseOptions base = BaseOptions.builder().setModelAssetPath(MODEL).setDelegate(Delegate.CPU)
        .build();
    this.classifier = TextClassifier.createFromOptions(context,
        TextClassifier.TextClassifierOptions.builder().setBaseOptions(base).build());
    this.labels = labels;
  }

  private static void requireAsset(Context context) {
    try {
      context.getAssets().open(MODEL).close();
    } catch (FileNotFoundException e) {
      throw new IllegalStateException(MODEL + " is not in the app's assets. tfdistill writes it"
          + " for uncased models (model_card.json \"mediapipe\" says why it is absent); copy it"
          + " from the package folder with the other files, or choose a LiteRT backend.");
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + MODEL + " from the assets: " + e);
    }
  }

  /**
   * Classifies {@code text}; returns the probabilities in {@code labels.txt} order.
   *
   * @throws IllegalStateException if MediaPipe's categories are not the package's labels
   */
  float[] classify(String text) {
    TextClassifierResult result = classifier.classify(text);
    List<Category> categories = result.classificationResult().classifications().get(0).categories();
    float[] probabilities = new float[labels.size()];
    for (Category category : categories) {
      int index = category.index();
      if (index < 0 || index >= probabilities.length
          || !labels.get(index).equals(category.categoryName())) {
        throw new IllegalStateException("MediaPipe returned category " + index + " \""
            + category.categoryName() + "\" but labels.txt is " + labels.names() + "; copy "
            + MODEL + " and labels.txt from the same export.");
      }
      probabilities[index] = category.score();
    }
    return probabilities;
  }

  /**
   * This engine as an {@link InferenceEngine} for {@code BenchmarkRunner}: each run classifies
   * {@code text} (tokenization included, as MediaPipe always does it) and ignores the token ids
   * it is given. Closing it closes this engine.
   */
  InferenceEngine forText(final String text) {
    return new InferenceEngine() {
      @Override
      public Map<String, float[]> run(Map<String, int[]> ignoredTokenIds) {
        return Collections.singletonMap(PROBABILITIES, classify(text));
      }

      @Override
      public void close() {
        MediaPipeEngine.this.close();
      }
    };
  }

  /** Formats a result like {@code Prediction.format()}, with MediaPipe's one combined time. */
  static String format(Labels labels, float[] probabilities, double millis) {
    int best = Softmax.argmax(probabilities);
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%s (%.1f%%)\n",
        labels.get(best), 100f * probabilities[best]));
    for (int i = 0; i < probabilities.length; i++) {
      out.append(String.format(Locale.ROOT, "  %-12s %5.1f%%\n", labels.get(i),
          100f * probabilities[i]));
    }
    out.append(String.format(Locale.ROOT, "MediaPipe tokenize + inference %.2f ms", millis));
    return out.toString();
  }

  @Override
  public void close() {
    classifier.close();
  }
}
