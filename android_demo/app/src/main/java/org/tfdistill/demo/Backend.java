package org.tfdistill.demo;

/** Where LiteRT runs the model: the CPU, or a delegate that takes over (part of) the graph. */
enum Backend {
  /** The CPU with XNNPACK's optimized kernels: the fastest choice for small BERT students. */
  CPU_XNNPACK("CPU (XNNPACK)"),
  /** The GPU delegate (OpenCL/OpenGL); unsupported ops fall back to the CPU. */
  GPU("GPU"),
  /**
   * Android's Neural Networks API. Deprecated since Android 15 and often slower than XNNPACK
   * for transformer graphs; offered only for comparison on older devices.
   */
  NNAPI("NNAPI (deprecated)");

  private final String label;

  Backend(String label) {
    this.label = label;
  }

  @Override
  public String toString() {
    return label; // Shown in the delegate spinner.
  }
}
