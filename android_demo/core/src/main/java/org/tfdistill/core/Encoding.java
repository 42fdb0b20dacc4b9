package org.tfdistill.core;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** The three int32 model inputs of one text (or text pair), each of the sequence length. */
public final class Encoding {
  public static final String INPUT_IDS = "input_ids";
  public static final String ATTENTION_MASK = "attention_mask";
  public static final String TOKEN_TYPE_IDS = "token_type_ids";

  private final int[] inputIds;
  private final int[] attentionMask;
  private final int[] tokenTypeIds;
  private final int length;

  Encoding(int[] inputIds, int[] attentionMask, int[] tokenTypeIds, int length) {
    this.inputIds = inputIds;
    this.attentionMask = attentionMask;
    this.tokenTypeIds = tokenTypeIds;
    this.length = length;
  }

  public int[] inputIds() {
    return inputIds.clone();
  }

  public int[] attentionMask() {
    return attentionMask.clone();
  }

  public int[] tokenTypeIds() {
    return tokenTypeIds.clone();
  }

  /** The number of real tokens, special tokens included (the rest is padding). */
  public int length() {
    return length;
  }

  public int sequenceLength() {
    return inputIds.length;
  }

  /** The inputs keyed by their signature names, for {@link InferenceEngine#run}. */
  public Map<String, int[]> asModelInputs() {
    Map<String, int[]> inputs = new LinkedHashMap<>();
    inputs.put(INPUT_IDS, inputIds());
    inputs.put(ATTENTION_MASK, attentionMask());
    inputs.put(TOKEN_TYPE_IDS, tokenTypeIds());
    return inputs;
  }

  @Override
  public String toString() {
    return "Encoding{input_ids=" + Arrays.toString(Arrays.copyOf(inputIds, length))
        + ", length=" + length + "/" + inputIds.length + "}";
  }
}
