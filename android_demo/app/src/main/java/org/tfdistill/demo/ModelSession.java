package org.tfdistill.demo;

import android.content.res.AssetManager;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import org.tfdistill.core.BenchmarkReport;
import org.tfdistill.core.BenchmarkRunner;
import org.tfdistill.core.Clock;
import org.tfdistill.core.ModelCard;
import org.tfdistill.core.ModelPackage;
import org.tfdistill.core.Prediction;
import org.tfdistill.core.TextClassifier;

/**
 * The loaded model package and the engine currently used for classification.
 *
 * <p>Not thread-safe: the activity confines it to one background thread, which keeps inference
 * off the UI thread and serializes engine creation, use and closing.
 */
final class ModelSession implements AutoCloseable {
  /** benchmark_model's defaults are 1 warm-up run (at least 0.5 s) and 50 timed runs. */
  static final int WARMUP_RUNS = 10;
  static final int TIMED_RUNS = 50;

  private final ModelPackage modelPackage;
  private final MappedByteBuffer model;
  private LiteRtEngine engine;
  private Backend engineBackend;
  private int engineThreads;

  private ModelSession(ModelPackage modelPackage, MappedByteBuffer model) {
    this.modelPackage = modelPackage;
    this.model = model;
  }

  /**
   * Loads and cross-checks the package from the assets, and verifies the model against its card.
   */
  static ModelSession open(AssetManager assets) throws IOException {
    AssetModelPackage files = new AssetModelPackage(assets);
    ModelPackage modelPackage = ModelPackage.load(files);
    modelPackage.card().verifyModel(files.open(ModelPackage.MODEL));
    return new ModelSession(modelPackage, files.mapModel());
  }

  ModelCard card() {
    return modelPackage.card();
  }

  /** Classifies {@code text}, (re)creating the engine if the backend or thread count changed. */
  Prediction classify(String text, Backend backend, int threads) {
    if (engine == null || engineBackend != backend || engineThreads != threads) {
      closeEngine();
      engine = newEngine(backend, threads);
      engineBackend = backend;
      engineThreads = threads;
    }
    return new TextClassifier(modelPackage, engine, Clock.SYSTEM).classify(text);
  }

  /**
   * Benchmarks a fresh engine on {@code text} (a fresh one so that initialization is measured).
   */
  BenchmarkReport benchmark(String text, final Backend backend, final int threads)
      throws Exception {
    return new BenchmarkRunner(Clock.SYSTEM, WARMUP_RUNS, TIMED_RUNS)
        .run(() -> newEngine(backend, threads), modelPackage.inputsFor(text));
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
  }
}
