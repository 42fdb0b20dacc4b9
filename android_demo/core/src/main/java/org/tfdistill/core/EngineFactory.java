package org.tfdistill.core;

/**
 * Creates an {@link InferenceEngine}; the benchmark times this call as the initialization cost
 * (model load, delegate preparation), as {@code benchmark_model} does.
 */
public interface EngineFactory {
  InferenceEngine create() throws Exception;
}
