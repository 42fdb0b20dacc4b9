package org.tfdistill.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal, strict JSON reader (RFC 8259) for model cards and test fixtures.
 *
 * <p>Hand-written because the core takes no third-party libraries and {@code org.json} exists on
 * Android but not on the JVM that tests the core. Values map to {@link Map} (insertion-ordered),
 * {@link List}, {@link String}, {@link Long} (integers without fraction or exponent that fit),
 * {@link Double} (other numbers), {@link Boolean} and {@code null}.
 */
public final class Json {
  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /**
   * Parses one JSON document.
   *
   * @throws IllegalArgumentException with the offset of the first syntax error
   */
  public static Object parse(String text) {
    Json reader = new Json(text);
    reader.skipWhitespace();
    Object value = reader.readValue();
    reader.skipWhitespace();
    if (reader.pos != text.length()) {
      throw reader.error("unexpected text after the JSON value");
    }
    return value;
  }

  private Object readValue() {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return readObject();
      case '[':
        return readArray();
      case '"':
        return readString();
      case 't':
        return readLiteral("true", Boolean.TRUE);
      case 'f':
        return readLiteral("false", Boolean.FALSE);
      case 'n':
        return readLiteral("null", null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return readNumber();
        }
        throw error("unexpected character '" + c + "'");
    }
  }

  private Map<String, Object> readObject() {
    Map<String, Object> object = new LinkedHashMap<>();
    pos++; // '{'
    skipWhitespace();
    if (consume('}')) {
      return object;
    }
    do {
      skipWhitespace();
      if (pos >= text.length() || text.charAt(pos) != '"') {
        throw error("expected a string key");
      }
      String key = readString();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      if (object.containsKey(key)) {
        throw error("duplicate key \"" + key + "\"");
      }
      object.put(key, readValue());
      skipWhitespace();
    } while (consume(','));
    expect('}');
    return Collections.unmodifiableMap(object);
  }

  private List<Object> readArray() {
    List<Object> array = new ArrayList<>();
    pos++; // '['
    skipWhitespace();
    if (consume(']')) {
      return array;
    }
    do {
      skipWhitespace();
      array.add(readValue());
      skipWhitespace();
    } while (consume(','));
    expect(']');
    return Collections.unmodifiableList(array);
  }

  private String readString() {
    pos++; // opening quote
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos++);
      if (c == '"') {
        return out.toString();
      }
      if (c < 0x20) {
        throw error("unescaped control character in string");
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= text.length()) {
        throw error("unterminated escape");
      }
      char e = text.charAt(pos++);
      switch (e) {
        case '"': out.append('"'); break;
        case '\\': out.append('\\'); break;
        case '/': out.append('/'); break;
        case 'b': out.append('\b'); break;
        case 'f': out.append('\f'); break;
        case 'n': out.append('\n'); break;
        case 'r': out.append('\r'); break;
        case 't': out.append('\t'); break;
        // A code point above U+FFFF arrives as two escapes (a surrogate pair); appending the
        // UTF-16 units one by one reassembles it.
        case 'u': out.append(readHex4()); break;
        default: throw error("invalid escape \\" + e);
      }
    }
  }

  private char readHex4() {
    if (pos + 4 > text.length()) {
      throw error("truncated \\u escape");
    }
    int value = 0;
    for (int i = 0; i < 4; i++) {
      int digit = Character.digit(text.charAt(pos++), 16);
      if (digit < 0) {
        throw error("invalid hex digit in \\u escape");
      }
      value = value * 16 + digit;
    }
    return (char) value;
  }

  private Object readNumber() {
    int start = pos;
    consume('-');
    if (consume('0')) {
      // A leading zero may not be followed by more digits.
    } else if (!readDigits()) {
      throw error("invalid number");
    }
    boolean integral = true;
    if (consume('.')) {
      integral = false;
      if (!readDigits()) {
        throw error("expected digits after the decimal point");
      }
    }
    if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      integral = false;
      pos++;
      if (!consume('+')) {
        consume('-');
      }
      if (!readDigits()) {
        throw error("expected digits in the exponent");
      }
    }
    String number = text.substring(start, pos);
    if (integral) {
      try {
        return Long.parseLong(number);
      } catch (NumberFormatException tooLarge) {
        // Falls through to a double, as JavaScript would.
      }
    }
    return Double.parseDouble(number);
  }

  private boolean readDigits() {
    int start = pos;
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
      pos++;
    }
    return pos > start;
  }

  private Object readLiteral(String literal, Object value) {
    if (!text.startsWith(literal, pos)) {
      throw error("invalid literal");
    }
    pos += literal.length();
    return value;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private boolean consume(char c) {
    if (pos < text.length() && text.charAt(pos) == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!consume(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private IllegalArgumentException error(String message) {
    return new IllegalArgumentException("Invalid JSON at offset " + pos + ": " + message);
  }
}
