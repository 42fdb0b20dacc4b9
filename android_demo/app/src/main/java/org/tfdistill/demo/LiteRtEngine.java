package org.tfdistill.demo;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Delegate;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;
import org.tensorflow.lite.gpu.CompatibilityList;
import org.tensorflow.lite.gpu.GpuDelegate;
import org.tfdistill.core.InferenceEngine;

/**
 * {@link InferenceEngine} on LiteRT's {@link Interpreter}, through the signature runner API.
 *
 * <p>Inputs and outputs are bound by signature name: the converter lists signature inputs sorted
 * by name ({@code attention_mask, input_ids, token_type_ids}), so positional binding would feed
 * the mask in as token ids. Each tensor must be a batch of one ({@code [1, n]}); the buffers are
 * allocated once so that a benchmark measures inference, not allocation.
 */
final class LiteRtEngine implements InferenceEngine {
  private final Interpreter interpreter;
  private final Delegate delegate; // Null for the CPU; closed after the interpreter.
  private final String signature;
  private final Map<String, int[][]> inputs = new HashMap<>();
  private final Map<String, float[][]> outputs = new HashMap<>();
  private final Map<String, Object> inputView = new HashMap<>();
  private final Map<String, Object> outputView = new HashMap<>();

  /**
   * Creates the interpreter with the chosen delegate and thread count.
   *
   * @throws UnsupportedOperationException if the GPU delegate is not supported on this device
   * @throws IllegalArgumentException if the model has no signature or an input or output is not
   *     a batch-of-one int32 / float32 tensor
   */
  LiteRtEngine(ByteBuffer model, Backend backend, int numThreads) {
    Interpreter.Options options = new Interpreter.Options().setNumThreads(numThreads);
    delegate = createDelegate(backend);
    if (delegate != null) {
      options.addDelegate(delegate);
    }
    // XNNPACK stays on in every mode: it runs whatever the GPU or NNAPI delegate leaves on the CPU.
    options.setUseXNNPACK(true);
    Interpreter created = null;
    try {
      created = new Interpreter(model, options);
      signature = onlySignature(created);
      for (String name : created.getSignatureInputs(signature)) {
        int length = batchOfOneLength(created.getInputTensorFromSignature(name, signature),
            DataType.INT32, name);
        int[][] buffer = new int[1][length];
        inputs.put(name, buffer);
        inputView.put(name, buffer);
      }
      for (String name : created.getSignatureOutputs(signature)) {
        int length = batchOfOneLength(created.getOutputTensorFromSignature(name, signature),
            DataType.FLOAT32, name);
        float[][] buffer = new float[1][length];
        outputs.put(name, buffer);
        outputView.put(name, buffer);
      }
    } catch (RuntimeException e) {
      if (created != null) {
        created.close();
      }
      if (delegate != null) {
        delegate.close();
      }
      throw e;
    }
    interpreter = created;
  }

  @Override
  public Map<String, float[]> run(Map<String, int[]> values) {
    if (!values.keySet().equals(inputs.keySet())) {
      throw new IllegalArgumentException("The model's signature takes " + inputs.keySet()
          + " but got " + values.keySet() + "; check model_card.json's \"inputs\".");
    }
    for (Map.Entry<String, int[]> entry : values.entrySet()) {
      int[] target = inputs.get(entry.getKey())[0];
      if (entry.getValue().length != target.length) {
        throw new IllegalArgumentException(entry.getKey() + " has " + entry.getValue().length
            + " values but the model takes " + target.length + "; check seq_len.");
      }
      System.arraycopy(entry.getValue(), 0, target, 0, target.length);
    }
    interpreter.runSignature(inputView, outputView, signature);
    Map<String, float[]> result = new HashMap<>();
    for (Map.Entry<String, float[][]> entry : outputs.entrySet()) {
      result.put(entry.getKey(), entry.getValue()[0].clone());
    }
    return result;
  }

  @Override
  public void close() {
    interpreter.close();
    if (delegate != null) {
      delegate.close();
    }
  }

  @SuppressWarnings("deprecation") // NNAPI is offered on purpose, labelled deprecated in the UI.
  private static Delegate createDelegate(Backend backend) {
    switch (backend) {
      case GPU:
        CompatibilityList compatibility = new CompatibilityList();
        try {
          if (!compatibility.isDelegateSupportedOnThisDevice()) {
            throw new UnsupportedOperationException(
                "The GPU delegate does not support this device's GPU; use CPU (XNNPACK).");
          }
          return new GpuDelegate(compatibility.getBestOptionsForThisDevice());
        } finally {
          compatibility.close();
        }
      case NNAPI:
        return new org.tensorflow.lite.nnapi.NnApiDelegate();
      case MEDIAPIPE:
        throw new IllegalArgumentException("MediaPipe runs text_classifier.tflite itself "
            + "(MediaPipeEngine), not through the LiteRT Interpreter.");
      case CPU_XNNPACK:
      default:
        return null;
    }
  }

  private static String onlySignature(Interpreter interpreter) {
    String[] keys = interpreter.getSignatureKeys();
    if (keys.length == 0) {
      throw new IllegalArgumentException("The model has no signature: export it from a concrete"
          + " function with named inputs (tfdistill's exporter does).");
    }
    return keys[0];
  }

  private static int batchOfOneLength(Tensor tensor, DataType type, String name) {
    int[] shape = tensor.shape();
    if (tensor.dataType() != type || shape.length != 2 || shape[0] != 1) {
      throw new IllegalArgumentException(name + " is " + tensor.dataType() + " "
          + Arrays.toString(shape) + "; expected " + type + " [1, n].");
    }
    return shape[1];
  }
}
