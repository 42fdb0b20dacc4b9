"""`Tokenizer`: the BERT uncased WordPiece tokenizer, as fixed-length int32 numpy arrays.

It wraps the Hugging Face `tokenizers` fast WordPiece so that tfdistill produces exactly the ids
of `transformers.BertTokenizerFast` without depending on `transformers`. Everything downstream
(the tf.data pipeline, the teacher, the student, the TFLite model and the Android demo) consumes
the three arrays it returns.
"""

import json
import os

import numpy as np
import tokenizers
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

from tfdistill.utils import atomic

TOKENIZER_JSON = "tokenizer.json"
VOCAB_TXT = "vocab.txt"
TOKENIZER_CONFIG_JSON = "tokenizer_config.json"
# A model package (tfdistill.export.package) has no tokenizer_config.json: its card records the
# casing (`do_lower_case`, `strip_accents`; older cards only inside their "tokenizer" entry).
MODEL_CARD_JSON = "model_card.json"

FEATURE_NAMES = ("input_ids", "attention_mask", "token_type_ids")

# tokenizer_config.json key -> default BERT token.
DEFAULT_SPECIAL_TOKENS = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
# Without these four a BERT input cannot be built; [MASK] is only needed for pretraining.
_REQUIRED_SPECIAL_TOKENS = ("unk_token", "sep_token", "pad_token", "cls_token")

# tokenizer_config.json key -> BertNormalizer argument.
_NORMALIZER_OPTIONS = {
    "do_lower_case": "lowercase",
    "strip_accents": "strip_accents",
    "tokenize_chinese_chars": "handle_chinese_chars",
}
# Words longer than this become [UNK] (the BERT and transformers default).
MAX_INPUT_CHARS_PER_WORD = 100


class Tokenizer:
    """BERT WordPiece tokenizer producing fixed-length int32 model inputs.

    The ids are those of `transformers.BertTokenizerFast` with `truncation=True,
    padding="max_length"`: `[CLS] A [SEP]` for single texts, `[CLS] A [SEP] B [SEP]` for pairs
    (token type 1 on `B [SEP]`), pairs truncated longest-first, every row padded with the pad id.

    Build it with `Tokenizer.from_pretrained(folder)` (a Hugging Face BERT folder) or
    `Tokenizer.from_vocab(tokens)`.

    Args:
        backend: `tokenizers.Tokenizer`, a BERT WordPiece pipeline.
        special_tokens: dict, optional, `tokenizer_config.json`-style names (`"pad_token"`, ...)
            to token strings; missing entries default to `[UNK]`, `[SEP]`, `[PAD]`, `[CLS]`,
            `[MASK]`.

    Raises:
        ValueError: a required special token (`[UNK]`, `[SEP]`, `[PAD]`, `[CLS]`) is not in the
            vocabulary.

    Example:
    >>> import tfdistill
    >>> tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
    >>> features = tokenizer(["A gripping film."], max_length=8)
    >>> features["input_ids"].tolist()
    [[101, 1037, 13940, 2143, 1012, 102, 0, 0]]
    >>> features["attention_mask"].tolist()
    [[1, 1, 1, 1, 1, 1, 0, 0]]
    """

    def __init__(self, backend, special_tokens=None):
        self._special_tokens = {**DEFAULT_SPECIAL_TOKENS, **(special_tokens or {})}
        self._backend = backend
        # Padding and truncation depend on each call's max_length; they are set per call.
        self._backend.no_padding()
        self._backend.no_truncation()
        self._configured_length = None
        self._vocab = None
        missing = [
            f"{key}={self._special_tokens[key]!r}"
            for key in _REQUIRED_SPECIAL_TOKENS
            if backend.token_to_id(self._special_tokens[key]) is None
        ]
        if missing:
            raise ValueError(
                f"The vocabulary lacks the special tokens {', '.join(missing)}. Use a BERT "
                "vocabulary, or name its special tokens in tokenizer_config.json."
            )

    @classmethod
    def from_vocab(cls, vocab, do_lower_case=True, strip_accents=None, tokenize_chinese_chars=True,
                   special_tokens=None):
        """Builds the BERT WordPiece pipeline from a list of tokens (the lines of `vocab.txt`).

        Args:
            vocab: list of str, the tokens; a token's id is its position.
            do_lower_case: bool, lowercase the text (uncased BERT).
            strip_accents: bool or None; None strips accents exactly when lowercasing.
            tokenize_chinese_chars: bool, split CJK characters into separate words.
            special_tokens: dict, optional, as in the constructor.

        Returns:
            A `Tokenizer`.

        Raises:
            ValueError: `vocab` repeats a token or lacks a required special token.

        Example:
        >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "film", "##s"]
        >>> tokenizer = Tokenizer.from_vocab(vocab)
        >>> tokenizer(["Good films"], max_length=6)["input_ids"].tolist()
        [[2, 4, 5, 6, 3, 0]]
        """
        special_tokens = {**DEFAULT_SPECIAL_TOKENS, **(special_tokens or {})}
        token_to_id = _vocab_to_ids(vocab)
        backend = tokenizers.Tokenizer(
            models.WordPiece(
                token_to_id,
                unk_token=special_tokens["unk_token"],
                continuing_subword_prefix="##",
                max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD,
            )
        )
        backend.normalizer = normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=tokenize_chinese_chars,
            strip_accents=strip_accents,
            lowercase=do_lower_case,
        )
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece(prefix="##")
        cls_token, sep_token = special_tokens["cls_token"], special_tokens["sep_token"]
        if cls_token in token_to_id and sep_token in token_to_id:
            backend.post_processor = processors.TemplateProcessing(
                single=f"{cls_token}:0 $A:0 {sep_token}:0",
                pair=f"{cls_token}:0 $A:0 {sep_token}:0 $B:1 {sep_token}:1",
                special_tokens=[(cls_token, token_to_id[cls_token]),
                                (sep_token, token_to_id[sep_token])],
            )
        # Registered special tokens are matched whole in the raw text ("[SEP]" stays one token),
        # as transformers does.
        backend.add_special_tokens(
            [token for token in special_tokens.values() if token in token_to_id]
        )
        return cls(backend, special_tokens)

    def with_vocab(self, vocab):
        """A tokenizer over another vocabulary with this one's normalizer (case, accents, CJK
        characters) and special tokens: e.g. a trimmed vocabulary
        (`tfdistill.compress.trim_vocabulary`).

        Args:
            vocab: list of str, the tokens; a token's id is its position.

        Returns:
            A `Tokenizer`.

        Raises:
            ValueError: as `from_vocab`.

        Example:
        >>> full = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "film", "##s"])
        >>> full.with_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "film", "##s"])(["Good films"], max_length=6)[
        ...     "input_ids"].tolist()
        [[2, 1, 4, 5, 3, 0]]
        """
        # A normalizer that is not a BertNormalizer (some tokenizer.json files) is read by what it does.
        options = self._normalizer_options() or self.casing
        return Tokenizer.from_vocab(vocab, special_tokens=self._special_tokens, **options)

    @classmethod
    def from_pretrained(cls, path):
        """Loads the tokenizer of a Hugging Face BERT folder.

        `tokenizer.json` is used when present, else `vocab.txt` with the standard BERT pipeline.
        `do_lower_case`, `strip_accents`, `tokenize_chinese_chars` and the special tokens are
        read from `tokenizer_config.json` when it has them (overriding `tokenizer.json`, as
        transformers does). A model package folder (`vocab.txt` and `model_card.json`) is
        tokenized with the casing its card records, so a cased model stays cased.

        Args:
            path: str or path-like, the folder.

        Returns:
            A `Tokenizer`.

        Raises:
            FileNotFoundError: the folder does not exist or has neither `tokenizer.json` nor
                `vocab.txt`.
            ValueError: `tokenizer_config.json` (or a package's `model_card.json`) is not a
                JSON object or has a non-boolean casing option; `tokenizer.json` is truncated,
                not JSON or not a tokenizer; or the vocabulary is unusable. Each message names
                the file and the fix.

        Example:
        >>> import tfdistill
        >>> tokenizer = tfdistill.Tokenizer.from_pretrained(tfdistill.default_teacher_path())
        >>> tokenizer.vocab_size
        30522
        """
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise FileNotFoundError(
                f"Tokenizer folder {path!r} does not exist. Pass a Hugging Face BERT folder "
                f"(with {TOKENIZER_JSON} or {VOCAB_TXT}), e.g. tfdistill.default_teacher_path()."
            )
        config = _read_tokenizer_config(path)
        special_tokens = _special_tokens_from_config(config)
        options = {**_casing_of_model_card(path), **_normalizer_options_of(
            os.path.join(path, TOKENIZER_CONFIG_JSON), config)}
        tokenizer_json = os.path.join(path, TOKENIZER_JSON)
        vocab_txt = os.path.join(path, VOCAB_TXT)
        if os.path.isfile(tokenizer_json):
            backend = _load_tokenizer_json(tokenizer_json, has_vocab_txt=os.path.isfile(vocab_txt))
            _override_normalizer(backend, options)
            return cls(backend, special_tokens)
        if os.path.isfile(vocab_txt):
            return cls.from_vocab(_read_vocab_txt(vocab_txt), special_tokens=special_tokens,
                                  **options)
        raise FileNotFoundError(
            f"{path!r} has neither {TOKENIZER_JSON} nor {VOCAB_TXT}; it is not a BERT tokenizer "
            f"folder (files present: {sorted(os.listdir(path))})."
        )

    def __call__(self, texts, text_pairs=None, max_length=128):
        """Tokenizes a batch of texts (or text pairs) into padded, truncated int32 arrays.

        Args:
            texts: list of str (a single str is a batch of one).
            text_pairs: list of str of the same length, optional, the second segments.
            max_length: int, the length of every row, special tokens included.

        Returns:
            dict of `input_ids`, `attention_mask`, `token_type_ids`: int32 numpy arrays of shape
            `[len(texts), max_length]`.

        Raises:
            TypeError: an entry is not a str (the message names its index).
            ValueError: `max_length` is below 2 (3 for pairs), or the pair count differs.

        Example:
        >>> tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "yes", "no"])
        >>> tokenizer(["yes"], ["no"], max_length=6)["token_type_ids"].tolist()
        [[0, 0, 0, 1, 1, 0]]
        """
        texts = as_text_list(texts, "texts")
        if text_pairs is not None:
            text_pairs = as_text_list(text_pairs, "text_pairs")
            if len(text_pairs) != len(texts):
                raise ValueError(
                    f"Got {len(texts)} texts but {len(text_pairs)} text_pairs; pass one pair per "
                    "text."
                )
        self._configure(max_length, with_pairs=text_pairs is not None)
        inputs = texts if text_pairs is None else list(zip(texts, text_pairs))
        encodings = self._backend.encode_batch(inputs)
        return {
            "input_ids": _stack([e.ids for e in encodings], max_length),
            "attention_mask": _stack([e.attention_mask for e in encodings], max_length),
            "token_type_ids": _stack([e.type_ids for e in encodings], max_length),
        }

    def _configure(self, max_length, with_pairs):
        minimum = 3 if with_pairs else 2
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
            raise TypeError(f"max_length must be an int, got {max_length!r}.")
        if max_length < minimum:
            what = "[CLS] A [SEP] B [SEP]" if with_pairs else "[CLS] text [SEP]"
            raise ValueError(
                f"max_length={max_length} is too small: {what} needs at least {minimum} "
                f"positions. Pass max_length >= {minimum} (128 is typical)."
            )
        if self._configured_length != max_length:
            self._backend.enable_truncation(int(max_length), strategy="longest_first")
            self._backend.enable_padding(
                length=int(max_length), pad_id=self.pad_token_id,
                pad_token=self._special_tokens["pad_token"], pad_type_id=0,
            )
            self._configured_length = max_length

    @property
    def vocab_size(self):
        """int, the number of ids (the size of the model's word embedding)."""
        return self._backend.get_vocab_size(with_added_tokens=True)

    @property
    def vocab(self):
        """list of str, the token of each id (the lines of `vocab.txt`)."""
        if self._vocab is None:
            token_to_id = self._backend.get_vocab(with_added_tokens=True)
            self._vocab = [token for token, _ in sorted(token_to_id.items(), key=lambda kv: kv[1])]
        return list(self._vocab)

    @property
    def pad_token_id(self):
        """int, the id that fills padded positions."""
        return self.token_id("pad_token")

    def token_id(self, name):
        """Returns the id of a special token.

        Args:
            name: str, `"pad_token"`, `"cls_token"`, `"sep_token"`, `"unk_token"` or
                `"mask_token"`.

        Returns:
            int, or None when the vocabulary lacks that token.

        Raises:
            KeyError: `name` is not a special-token name.

        Example:
        >>> Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).token_id("cls_token")
        2
        """
        return self._backend.token_to_id(self._special_tokens[name])

    def _normalizer_options(self):
        normalizer = self._backend.normalizer
        if not isinstance(normalizer, normalizers.BertNormalizer):
            return {}
        return {key: getattr(normalizer, arg) for key, arg in _NORMALIZER_OPTIONS.items()}

    @property
    def casing(self):
        """dict, what the normalizer does to case and accents: `do_lower_case` and
        `strip_accents`, both bool. Found by normalizing "A" and "\u00e9", so it holds for any
        normalizer (a `BertNormalizer`'s `strip_accents=None` reads as what it does)."""
        normalizer = self._backend.normalizer
        if normalizer is None:
            return {"do_lower_case": False, "strip_accents": False}
        return {"do_lower_case": normalizer.normalize_str("A") == "a",
                "strip_accents": normalizer.normalize_str("\u00e9") == "e"}

    def get_config(self):
        """Returns a JSON-serializable summary (vocabulary size, casing, special token ids).

        `do_lower_case` and `strip_accents` are what the tokenizer does (bools, see `casing`);
        a model package's card records them so that every tokenizer of the package follows them.

        Returns:
            dict.

        Example:
        >>> Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).get_config()["pad_token_id"]
        0
        """
        config = {"vocab_size": self.vocab_size, **self._normalizer_options(), **self.casing}
        config.update({key: token for key, token in self._special_tokens.items()})
        config.update({f"{key}_id": self.token_id(key) for key in self._special_tokens})
        return config

    def save_pretrained(self, folder):
        """Writes `vocab.txt`, `tokenizer.json` and `tokenizer_config.json` into `folder`.

        The folder loads back with `Tokenizer.from_pretrained` and with transformers'
        `BertTokenizerFast.from_pretrained`. Each file is written atomically; other files in the
        folder (e.g. model weights) are left alone.

        Args:
            folder: str or path-like, created if needed.

        Returns:
            str, the folder.

        Example:
        >>> tokenizer.save_pretrained("runs/student")
        'runs/student'
        >>> Tokenizer.from_pretrained("runs/student").vocab == tokenizer.vocab
        True
        """
        folder = os.fspath(folder)
        os.makedirs(folder, exist_ok=True)
        atomic.write_text(os.path.join(folder, VOCAB_TXT), "\n".join(self.vocab) + "\n")
        # Saved without the per-call padding and truncation, which are not part of the tokenizer.
        backend = tokenizers.Tokenizer.from_str(self._backend.to_str())
        backend.no_padding()
        backend.no_truncation()
        atomic.write_text(os.path.join(folder, TOKENIZER_JSON), backend.to_str(pretty=True))
        config = {"tokenizer_class": "BertTokenizer", **self._normalizer_options(),
                  **self._special_tokens}
        atomic.write_json(os.path.join(folder, TOKENIZER_CONFIG_JSON), config)
        return folder

    def __repr__(self):
        return (f"Tokenizer(vocab_size={self.vocab_size}, "
                f"do_lower_case={self.casing['do_lower_case']})")


def check_tokenizer(model_vocab, tokenizer, model_name="the model"):
    """Refuses a tokenizer whose ids do not index a model's word embeddings.

    Args:
        model_vocab: int or None, the model's embedding rows (None skips the check).
        tokenizer: `Tokenizer`.
        model_name: str, how the model is named in the message.

    Raises:
        ValueError: the vocabulary sizes differ.

    Example:
    >>> check_tokenizer(4, Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]))
    """
    if model_vocab is not None and model_vocab != tokenizer.vocab_size:
        raise ValueError(
            f"The tokenizer has {tokenizer.vocab_size} ids but {model_name} embeds "
            f"{model_vocab}: its inputs do not match this tokenizer. Pass the tokenizer the model "
            "was trained with (Tokenizer.from_pretrained(<model folder>)), or a vocab.txt with "
            f"one line per embedding row ({model_vocab}).")


def _vocab_to_ids(vocab):
    token_to_id = {}
    for index, token in enumerate(vocab):
        if token in token_to_id:
            raise ValueError(
                f"The vocabulary repeats {token!r} (entries {token_to_id[token]} and {index}); "
                "every token must appear once."
            )
        token_to_id[token] = index
    return token_to_id


def _read_vocab_txt(path):
    try:
        with open(path, encoding="utf-8") as f:
            # transformers strips only the newline: a token may itself be whitespace-like.
            return [line.rstrip("\n") for line in f]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text (byte offset {e.start}: {e.reason}); copy the "
                         "model's vocab.txt again (it is UTF-8, one token a line).") from None


def _read_json_object(path, fix):
    """The JSON object in `path`; ValueError naming the file and `fix` if it is anything else."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON ({e}); {fix}.") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} holds a JSON {type(value).__name__}, not an object; {fix}.")
    return value


def _read_tokenizer_config(folder):
    path = os.path.join(folder, TOKENIZER_CONFIG_JSON)
    if not os.path.isfile(path):
        return {}
    return _read_json_object(path, "fix or delete it")


def _casing_of_model_card(folder):
    """The casing options a model package's card records ({} when the folder has no card)."""
    path = os.path.join(folder, MODEL_CARD_JSON)
    if not os.path.isfile(path):
        return {}
    card = _read_json_object(path, "export the model package again")
    recorded = card.get("tokenizer") if isinstance(card.get("tokenizer"), dict) else {}
    return _normalizer_options_of(path, {**recorded, **card})


def _special_tokens_from_config(config):
    special_tokens = {}
    for key in DEFAULT_SPECIAL_TOKENS:
        value = config.get(key)
        # Newer transformers write {"content": "[PAD]", ...} instead of the bare string.
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            special_tokens[key] = value
    return special_tokens


def _normalizer_options_of(path, config):
    """The casing options in `config` (read from `path`), checked."""
    options = {key: config[key] for key in _NORMALIZER_OPTIONS if key in config}
    for key, value in options.items():
        # strip_accents may be null (follow do_lower_case); the others are true or false.
        if not (isinstance(value, bool) or (key == "strip_accents" and value is None)):
            raise ValueError(
                f"{path}: {key} must be true or false, got {value!r:.60}. Fix that field or "
                "delete it (BERT uncased: do_lower_case true).")
    return options


def _load_tokenizer_json(path, has_vocab_txt):
    """`tokenizers.Tokenizer.from_file`, with a message that says what is wrong with the file."""
    try:
        return tokenizers.Tokenizer.from_file(path)
    except Exception as error:  # the Rust side raises a bare Exception whatever went wrong
        fix = (f"Copy {TOKENIZER_JSON} again from where the model came from (e.g. its Hugging "
               "Face repository)")
        if has_vocab_txt:
            fix += (f", or delete it: the folder's {VOCAB_TXT} and {TOKENIZER_CONFIG_JSON} then "
                    "give the standard BERT tokenizer")
        raise ValueError(f"{_tokenizer_json_problem(path, error)}. {fix}.") from None


def _tokenizer_json_problem(path, error):
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip():
        return f"{path} is empty ({len(data)} bytes), as an interrupted download or copy leaves it"
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return f"{path} is not UTF-8 text (byte offset {e.start}), so not a tokenizer.json"
    except json.JSONDecodeError as e:
        where = f"{e.msg}: line {e.lineno}, column {e.colno}"
        # An unterminated string, or an error at the very end: the text stops mid-document.
        if e.msg.startswith("Unterminated string") or e.pos >= len(e.doc.rstrip()):
            return (f"{path} is cut short: its {len(data):,} bytes end inside the JSON ({where}), "
                    "as an interrupted download or copy leaves it")
        return f"{path} is not valid JSON ({where}); it is damaged"
    return (f"{path} is JSON but not a tokenizer that tokenizers {tokenizers.__version__} can "
            f"read ({error}); it may come from a newer tokenizers release, or be another file")


def _override_normalizer(backend, options):
    """Applies tokenizer_config.json casing options to a loaded BertNormalizer, as transformers."""
    normalizer = backend.normalizer
    if not options or not isinstance(normalizer, normalizers.BertNormalizer):
        return
    state = {arg: getattr(normalizer, arg) for arg in
             ("clean_text", "handle_chinese_chars", "strip_accents", "lowercase")}
    wanted = {**state, **{_NORMALIZER_OPTIONS[key]: value for key, value in options.items()}}
    if wanted != state:
        backend.normalizer = normalizers.BertNormalizer(**wanted)


def as_text_list(values, name):
    """Returns `values` (a str, a sequence or array of str) as a list of str.

    Raises:
        TypeError: an entry is not a str (the message names its index).

    Example:
    >>> as_text_list("one text", "texts")
    ['one text']
    """
    if isinstance(values, str):
        return [values]
    if isinstance(values, np.ndarray):
        values = values.tolist()
    values = list(values)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            hint = " (decode bytes with .decode('utf-8'))" if isinstance(value, bytes) else ""
            raise TypeError(
                f"{name}[{index}] is a {type(value).__name__} ({value!r:.60}), not a str{hint}."
            )
    return values


def _stack(rows, max_length):
    return np.asarray(rows, dtype=np.int32).reshape(len(rows), max_length)
