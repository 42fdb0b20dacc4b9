package org.tfdistill.core;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The {@code model_card.json} of an exported model package: what the app needs to feed the
 * {@code .tflite} (sequence length, input and output names) and what it shows about it.
 *
 * <p>Schema: {@code {"seq_len": int, "inputs": [names], "outputs": [names], "labels": [names],
 * "mode": str, "size_bytes": int, "sha256": str, "source": str, "accuracy": number,
 * "do_lower_case": bool, "strip_accents": bool or null, "tokenizer": {"vocab_size": int, ...}}}.
 * The first three are required; the rest are optional. Unknown keys are ignored so that newer
 * exporters can add fields without breaking installed apps. A card that does not record the
 * casing (at the top, or in older cards inside "tokenizer") is uncased.
 */
public final class ModelCard {
  private final int seqLen;
  private final List<String> inputs;
  private final List<String> outputs;
  private final List<String> labels;
  private final String mode;
  private final long sizeBytes;
  private final String sha256;
  private final String source;
  private final double accuracy;
  private final Casing casing;
  private final long vocabSize;

  private ModelCard(Map<String, Object> card) {
    this.seqLen = (int) requireLong(card, "seq_len", 1, Integer.MAX_VALUE);
    this.inputs = requireNames(card, "inputs");
    this.outputs = requireNames(card, "outputs");
    this.labels = card.containsKey("labels") ? requireNames(card, "labels")
        : Collections.<String>emptyList();
    this.mode = optionalString(card, "mode");
    this.sizeBytes = card.containsKey("size_bytes")
        ? requireLong(card, "size_bytes", 0, Long.MAX_VALUE) : -1;
    this.sha256 = optionalString(card, "sha256").toLowerCase(java.util.Locale.ROOT);
    this.source = optionalString(card, "source");
    this.accuracy = card.get("accuracy") instanceof Number
        ? ((Number) card.get("accuracy")).doubleValue() : Double.NaN;
    Map<String, Object> tokenizer = optionalObject(card, "tokenizer");
    this.casing = parseCasing(card.containsKey("do_lower_case") ? card : tokenizer);
    this.vocabSize = tokenizer.containsKey("vocab_size")
        ? requireLong(tokenizer, "vocab_size", 1, Integer.MAX_VALUE) : -1;
  }

  /**
   * Parses the text of {@code model_card.json}.
   *
   * @throws IllegalArgumentException if it is not JSON, not an object, or a known key is missing
   *     or of the wrong type (the message names the key)
   */
  public static ModelCard parse(String json) {
    Object root = Json.parse(json);
    if (!(root instanceof Map)) {
      throw new IllegalArgumentException("model_card.json must hold a JSON object.");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> card = (Map<String, Object>) root;
    return new ModelCard(card);
  }

  /** Reads and parses {@code model_card.json} from a stream, closing it. */
  public static ModelCard load(InputStream in) throws IOException {
    return parse(TextLines.readAll(in));
  }

  public int seqLen() {
    return seqLen;
  }

  /** Input tensor names of the model's signature (bind by name: the order is not meaningful). */
  public List<String> inputs() {
    return inputs;
  }

  public List<String> outputs() {
    return outputs;
  }

  /** Class names, or an empty list if the card has none (labels.txt then decides). */
  public List<String> labels() {
    return labels;
  }

  /** Export mode, e.g. "fp32", "fp16", "dynamic_int8"; empty if unknown. */
  public String mode() {
    return mode;
  }

  /** Size of the .tflite in bytes, or -1 if unknown. */
  public long sizeBytes() {
    return sizeBytes;
  }

  /** Lowercase hex SHA-256 of the .tflite, or empty if unknown. */
  public String sha256() {
    return sha256;
  }

  public String source() {
    return source;
  }

  /** Test accuracy recorded at export, or NaN if unknown. */
  public double accuracy() {
    return accuracy;
  }

  /** How the model's tokenizer treats case and accents; {@link Casing#UNCASED} if unrecorded. */
  public Casing casing() {
    return casing;
  }

  /** Number of tokens of the model's vocabulary ({@code tokenizer.vocab_size}), or -1. */
  public long vocabSize() {
    return vocabSize;
  }

  /**
   * Checks that a {@code .tflite} is the one this card describes (size and SHA-256, where
   * known), so that a stale model next to a new card is caught before it gives wrong answers.
   *
   * @throws IllegalStateException naming the mismatch
   */
  public void verifyModel(InputStream tflite) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("Every Java platform provides SHA-256", e);
    }
    long size = 0;
    try (InputStream in = tflite) {
      byte[] buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) != -1) {
        digest.update(buffer, 0, n);
        size += n;
      }
    }
    if (sizeBytes >= 0 && size != sizeBytes) {
      throw new IllegalStateException("model.tflite has " + size + " bytes but model_card.json"
          + " says " + sizeBytes + "; copy the model and its card from the same export.");
    }
    String actual = hex(digest.digest());
    if (!sha256.isEmpty() && !actual.equals(sha256)) {
      throw new IllegalStateException("model.tflite has SHA-256 " + actual
          + " but model_card.json says " + sha256 + "; copy the model and its card from the same "
          + "export.");
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) {
      out.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return out.toString();
  }

  private static long requireLong(Map<String, Object> card, String key, long min, long max) {
    Object value = card.get(key);
    if (!(value instanceof Long)) {
      throw new IllegalArgumentException(
          "model_card.json: \"" + key + "\" must be an integer, got " + describe(value) + ".");
    }
    long number = (Long) value;
    if (number < min || number > max) {
      throw new IllegalArgumentException(
          "model_card.json: \"" + key + "\" = " + number + " is out of range.");
    }
    return number;
  }

  private static List<String> requireNames(Map<String, Object> card, String key) {
    Object value = card.get(key);
    if (!(value instanceof List) || ((List<?>) value).isEmpty()) {
      throw new IllegalArgumentException("model_card.json: \"" + key
          + "\" must be a non-empty list of names, got " + describe(value) + ".");
    }
    List<String> names = new ArrayList<>();
    for (Object name : (List<?>) value) {
      if (!(name instanceof String)) {
        throw new IllegalArgumentException(
            "model_card.json: \"" + key + "\" holds " + describe(name) + ", not a string.");
      }
      names.add((String) name);
    }
    return Collections.unmodifiableList(names);
  }

  private static Casing parseCasing(Map<String, Object> fields) {
    Object lower = fields.get("do_lower_case");
    Object strip = fields.get("strip_accents");
    if (lower == null && strip == null) {
      return Casing.UNCASED;
    }
    if (!(lower instanceof Boolean) || !(strip == null || strip instanceof Boolean)) {
      throw new IllegalArgumentException("model_card.json: \"do_lower_case\" must be true or false"
          + " and \"strip_accents\" true, false or null; got " + describe(lower) + " and "
          + describe(strip) + ". Export the model package again.");
    }
    return Casing.of((Boolean) lower, (Boolean) strip);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> optionalObject(Map<String, Object> card, String key) {
    Object value = card.get(key);
    return value instanceof Map ? (Map<String, Object>) value
        : Collections.<String, Object>emptyMap();
  }

  private static String optionalString(Map<String, Object> card, String key) {
    Object value = card.get(key);
    if (value == null) {
      return "";
    }
    if (!(value instanceof String)) {
      throw new IllegalArgumentException(
          "model_card.json: \"" + key + "\" must be a string, got " + describe(value) + ".");
    }
    return (String) value;
  }

  private static String describe(Object value) {
    return value == null ? "nothing" : value.getClass().getSimpleName() + " " + value;
  }

  @Override
  public String toString() {
    return "ModelCard{seq_len=" + seqLen + ", inputs=" + inputs + ", outputs=" + outputs
        + ", labels=" + labels + ", mode=" + mode + ", size_bytes=" + sizeBytes + ", " + casing
        + "}";
  }
}
