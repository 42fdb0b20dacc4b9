package org.tfdistill.demo;

/**
 * What runs the model: LiteRT's Interpreter on {@code model.tflite} with tfdistill's tokenizer (on
 * the CPU, or with a delegate that takes over part of the graph), or MediaPipe Tasks'
 * TextClassifier on {@code text_classifier.tflite}, which tokenizes the text itself.
 */
enum Backend {
  /** The CPU with XNNPACK's optimized kernels: the fastest choice for small BERT students. */
  CPU_XNNPACK("CPU (XNNPACK)"),
  /** The GPU delegate (OpenCL/OpenGL); unsupported ops fall back to the CPU. */
  GPU("GPU"),
  /**
   * Android's Neural Networks API. Deprecated since Android 15 and often slower than XNNPACK
   * for transformer graphs; offered only for comparison on older devices.
   */
  NNAPI("NNAPI (deprecated)"),
  /**
   * MediaPipe Tasks' TextClassifier ({@link MediaPipeEngine}) on {@code text_classifier.tflite}:
   * the standard MediaPipe route, no custom tokenizer in the app. CPU; MediaPipe picks its
   * threads.
   */
  MEDIAPIPE("MediaPipe TextClassifier");

  private final String label;

  Backend(String label) {
    this.label = label;
  }

  /** True for the MediaPipe TextClassifier, which takes text rather than token ids. */
  boolean isMediaPipe() {
    return this == MEDIAPIPE;
  }

  @Override
  public String toString() {
    return label; // Shown in the delegate spinner.
  }
}
