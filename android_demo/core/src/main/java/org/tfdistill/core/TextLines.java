package org.tfdistill.core;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the small UTF-8 text files of a model package ({@code vocab.txt}, {@code labels.txt},
 * {@code model_card.json}).
 *
 * <p>Streams rather than paths: on Android they come from {@code AssetManager.open}, and
 * {@code java.nio.file} only exists from API 26 while the app supports API 24.
 */
final class TextLines {
  private TextLines() {}

  /**
   * Returns the lines of a UTF-8 stream without their terminators ({@code \n} or {@code \r\n}),
   * closing the stream. A final terminator does not start an extra empty line.
   */
  static List<String> read(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      // Not BufferedReader.readLine: it also splits on a lone '\r', which a token may contain.
      StringBuilder line = new StringBuilder();
      int c;
      boolean pending = false;
      while ((c = reader.read()) != -1) {
        if (c == '\n') {
          lines.add(stripCarriageReturn(line));
          line.setLength(0);
          pending = false;
        } else {
          line.append((char) c);
          pending = true;
        }
      }
      if (pending) {
        lines.add(stripCarriageReturn(line));
      }
    }
    return lines;
  }

  /** Returns the whole UTF-8 stream as one string, closing the stream. */
  static String readAll(InputStream in) throws IOException {
    StringBuilder text = new StringBuilder();
    try (InputStreamReader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      char[] buffer = new char[8192];
      int n;
      while ((n = reader.read(buffer)) != -1) {
        text.append(buffer, 0, n);
      }
    }
    return text.toString();
  }

  /** Opens a file for {@link #read} or {@link #readAll}, naming it if it is missing. */
  static InputStream open(File file) throws IOException {
    if (!file.isFile()) {
      throw new java.io.FileNotFoundException(
          file.getPath() + " does not exist; pass the folder of an exported model package.");
    }
    return new FileInputStream(file);
  }

  private static String stripCarriageReturn(StringBuilder line) {
    int n = line.length();
    return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
  }
}
