package org.tfdistill.demo;

import android.app.Activity;
import android.os.Bundle;
import android.text.TextUtils;
import android.util.Log;
import android.view.View;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.EditText;
import android.widget.Spinner;
import android.widget.TextView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.tfdistill.core.BenchmarkReport;
import org.tfdistill.core.ModelCard;

/**
 * Type a review, see the label and probabilities with their latency; or benchmark the model with
 * a chosen thread count and delegate.
 */
public final class MainActivity extends Activity {
  private static final String TAG = "tfdistill";
  private static final int DEFAULT_THREADS = 4;

  /** All model work runs here, one task at a time, never on the UI thread. */
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private ModelSession session; // Touched only on the worker thread.

  private TextView modelInfo;
  private EditText input;
  private Button classifyButton;
  private Button benchmarkButton;
  private TextView prediction;
  private TextView benchmarkReport;
  private Spinner threads;
  private Spinner backend;

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    setContentView(R.layout.activity_main);
    modelInfo = findViewById(R.id.model_info);
    input = findViewById(R.id.input_text);
    classifyButton = findViewById(R.id.classify_button);
    benchmarkButton = findViewById(R.id.benchmark_button);
    prediction = findViewById(R.id.prediction);
    benchmarkReport = findViewById(R.id.benchmark_report);
    threads = findViewById(R.id.threads);
    backend = findViewById(R.id.delegate);
    setUpChoices();

    classifyButton.setOnClickListener(v -> classify());
    benchmarkButton.setOnClickListener(v -> benchmark());
    worker.execute(this::openSession);
  }

  @Override
  protected void onDestroy() {
    worker.execute(() -> {
      if (session != null) {
        session.close();
      }
    });
    worker.shutdown();
    super.onDestroy();
  }

  private void setUpChoices() {
    List<Integer> counts = new ArrayList<>();
    int selected = 0;
    for (int count : getResources().getIntArray(R.array.thread_counts)) {
      if (count == Math.min(DEFAULT_THREADS, Runtime.getRuntime().availableProcessors())) {
        selected = counts.size();
      }
      counts.add(count);
    }
    threads.setAdapter(adapter(counts));
    threads.setSelection(selected);
    List<Backend> backends = new ArrayList<>();
    for (Backend b : Backend.values()) {
      backends.add(b);
    }
    backend.setAdapter(adapter(backends));
    // A new choice takes effect at the next classification; clear the stale result.
    AdapterView.OnItemSelectedListener clear = new AdapterView.OnItemSelectedListener() {
      @Override
      public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
        prediction.setText("");
      }

      @Override
      public void onNothingSelected(AdapterView<?> parent) {}
    };
    threads.setOnItemSelectedListener(clear);
    backend.setOnItemSelectedListener(clear);
  }

  private <T> ArrayAdapter<T> adapter(List<T> items) {
    ArrayAdapter<T> adapter =
        new ArrayAdapter<>(this, android.R.layout.simple_spinner_item, items);
    adapter.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item);
    return adapter;
  }

  private void openSession() {
    try {
      session = ModelSession.open(this);
      final ModelCard card = session.card();
      onUi(() -> {
        modelInfo.setText(getString(R.string.model_summary,
            card.mode().isEmpty() ? "model" : card.mode(), card.seqLen(),
            TextUtils.join(" / ", card.labels())));
        classifyButton.setEnabled(true);
        benchmarkButton.setEnabled(true);
      });
    } catch (Exception e) {
      Log.e(TAG, "Could not load the model package", e);
      onUi(() -> modelInfo.setText(getString(R.string.error, String.valueOf(e.getMessage()))));
    }
  }

  private void classify() {
    final String text = input.getText().toString();
    final Backend chosenBackend = (Backend) backend.getSelectedItem();
    final int chosenThreads = (Integer) threads.getSelectedItem();
    inBackground(prediction, () -> session.classify(text, chosenBackend, chosenThreads), null);
  }

  private void benchmark() {
    final String text = input.getText().toString();
    final Backend chosenBackend = (Backend) backend.getSelectedItem();
    final int chosenThreads = (Integer) threads.getSelectedItem();
    benchmarkButton.setEnabled(false);
    inBackground(benchmarkReport, () -> {
      BenchmarkReport report = session.benchmark(text, chosenBackend, chosenThreads);
      String header = getString(R.string.benchmark_header, chosenBackend, chosenThreads,
          ModelSession.WARMUP_RUNS, ModelSession.TIMED_RUNS);
      Log.i(TAG, header + "\n" + report.format());
      return header + "\n" + report.format();
    }, () -> benchmarkButton.setEnabled(true));
  }

  /** Work for the model thread whose result is shown as text. */
  private interface Job {
    String run() throws Exception;
  }

  /**
   * Runs {@code job} on the model thread and shows its result (or its error) in {@code target};
   * then runs {@code done}, if any, on the UI thread.
   */
  private void inBackground(final TextView target, final Job job, final Runnable done) {
    target.setText(R.string.running);
    worker.execute(() -> {
      String text;
      try {
        text = job.run();
      } catch (Exception e) {
        Log.e(TAG, "Model error", e);
        text = getString(R.string.error, String.valueOf(e.getMessage()));
      }
      final String shown = text;
      onUi(() -> {
        target.setText(shown);
        if (done != null) {
          done.run();
        }
      });
    });
  }

  /** Runs on the UI thread unless the activity is already gone. */
  private void onUi(final Runnable action) {
    runOnUiThread(() -> {
      if (!isDestroyed()) {
        action.run();
      }
    });
  }
}
