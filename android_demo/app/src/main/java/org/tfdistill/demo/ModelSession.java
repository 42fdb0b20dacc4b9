package org.tfdistill.demo;

import android.content.Context;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import org.tfdistill.core.BenchmarkReport;
import org.tfdistill.core.BenchmarkRunner;
import org.tfdistill.core.Clock;
import org.tfdistill.core.EngineFactory;
import org.tfdistill.core.ModelCard;
import org.tfdistill.core.ModelPackage;
import org.tfdistill.core.Prediction;
import org.tfdistill.core.TextClassifier;

/**
 * The loaded model package and the engine currently used for classification: LiteRT on
 * {@code model.tflite}, or MediaPipe's TextClassifier on {@code text_classifier.tflite}.
 *
 * <p>Not thread-safe: the activity confines it to one background thread, which keeps inference
 * off the UI thread and serializes engine creation, use and closing.
 */
final class ModelSession implements AutoCloseable {
  /** benchmark_model's defaults are 1 warm-up run (at least 0.5 s) and 50 timed runs. */
  static final int WARMUP_RUNS = 10;
  static final int TIMED_RUNS = 50;

  private final Context context;
  private final ModelPackage modelPackage;
  private final MappedByteBuffer model;
  private MediaPipeEngine mediaPipe; // Created on first use of the MediaPipe backend.
  private LiteRtEngine engine;
  private Backend engineBackend;
  private int engineThreads;

  private ModelSession(Context context, ModelPackage modelPackage, MappedByteBuffer model) {
    this.context = context;
    this.modelPackage = modelPackage;
    this.model = model;
  }

  /**
   * Loads and cross-checks the package from the assets, and verifies the model against its card.
   */
  static ModelSession open(Context context) throws IOException {
    AssetModelPackage files = new AssetModelPackage(context.getAssets());
    ModelPackage modelPackage = ModelPackage.load(files);
    modelPackage.card().verifyModel(files.open(ModelPackage.MODEL));
    return new ModelSession(context.getApplicationContext(), modelPackage, files.mapModel());
  }

  ModelCard card() {
    return modelPackage.card();
  }

  /**
   * Classifies {@code text} and formats the result, (re)creating the LiteRT engine if the backend
   * or thread count changed.
   */
  String classify(String text, Backend backend, int threads) {
    if (backend.isMediaPipe()) {
      if (mediaPipe == null) {
        mediaPipe = new MediaPipeEngine(context, modelPackage.labels());
      }
      long start = Clock.SYSTEM.nanoTime();
      float[] probabilities = mediaPipe.classify(text);
      return MediaPipeEngine.format(modelPackage.labels(), probabilities,
          Clock.SYSTEM.millisSince(start));
    }
    if (engine == null || engineBackend != backend || engineThreads != threads) {
      closeEngine();
      engine = newEngine(backend, threads);
      engineBackend = backend;
      engineThreads = threads;
    }
    Prediction prediction = new TextClassifier(modelPackage, engine, Clock.SYSTEM).classify(text);
    return prediction.format();
  }

  /**
   * Benchmarks a fresh engine on {@code text} (a fresh one so that initialization is measured).
   * MediaPipe's runs include its tokenization; LiteRT's runs start from token ids.
   */
  BenchmarkReport benchmark(final String text, final Backend backend, final int threads)
      throws Exception {
    EngineFactory factory = backend.isMediaPipe()
        ? () -> new MediaPipeEngine(context, modelPackage.labels()).forText(text)
        : () -> newEngine(backend, threads);
    return new BenchmarkRunner(Clock.SYSTEM, WARMUP_RUNS, TIMED_RUNS)
        .run(factory, modelPackage.inputsFor(text));
  }

  private LiteRtEngine newEngine(Backend backend, int threads) {
    // Each interpreter reads the same mapped model; a duplicate gives it its own position.
    return new LiteRtEngine(model.duplicate(), backend, threads);
  }

  private void closeEngine() {
    if (engine != null) {
      engine.close();
      engine = null;
    }
  }

  @Override
  public void close() {
    closeEngine();
    if (mediaPipe != null) {
      mediaPipe.close();
      mediaPipe = null;
    }
  }
}
