package org.tfdistill.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The class names of {@code labels.txt}: one per line, line i naming logit i. */
public final class Labels {
  private final List<String> names;

  private Labels(List<String> names) {
    this.names = Collections.unmodifiableList(names);
  }

  /**
   * Builds labels from names in logit order.
   *
   * @throws IllegalArgumentException if there are none, one is blank, or one repeats
   */
  public static Labels of(List<String> names) {
    List<String> copy = new ArrayList<>(names);
    if (copy.isEmpty()) {
      throw new IllegalArgumentException("labels.txt is empty; it needs one class name per line.");
    }
    for (int i = 0; i < copy.size(); i++) {
      String name = copy.get(i);
      if (name.trim().isEmpty()) {
        throw new IllegalArgumentException("labels.txt line " + (i + 1) + " is blank.");
      }
      if (copy.indexOf(name) != i) {
        throw new IllegalArgumentException("labels.txt repeats \"" + name + "\".");
      }
    }
    return new Labels(copy);
  }

  /** Reads {@code labels.txt} from a stream, closing it. */
  public static Labels load(InputStream in) throws IOException {
    return of(TextLines.read(in));
  }

  public String get(int index) {
    return names.get(index);
  }

  public int size() {
    return names.size();
  }

  public List<String> names() {
    return names;
  }
}
