from tfdistill.pipeline.selection import choose_shipped, standard_error


def _entry(name, mode, validation, gzip=10):
    return {"name": name, "mode": mode, "validation_accuracy": validation, "gzip_size_bytes": gzip}


def test_a_clear_validation_winner_ships_whatever_its_mode():
    entry, details = choose_shipped([_entry("qat", "qat", 0.70), _entry("dyn", "dynamic", 0.80)], 1000)
    assert entry["name"] == "dyn" and details["tied"] == ["dyn"]


def test_ties_within_one_standard_error_go_by_mode_then_size_then_validation():
    error = standard_error(0.80, 1000)
    entries = [_entry("dyn", "dynamic", 0.80, gzip=5), _entry("int8_big", "int8", 0.80 - error / 2, gzip=10),
               _entry("int8_small", "int8", 0.80 - error / 2, gzip=5), _entry("far", "qat", 0.80 - 2 * error)]
    entry, details = choose_shipped(entries, 1000)
    assert entry["name"] == "int8_small"
    assert details["tied"] == ["dyn", "int8_big", "int8_small"] and details["best_validation_accuracy"] == 0.80


def test_no_candidate_ships_nothing_and_keras_or_unmeasured_entries_are_not_candidates():
    assert choose_shipped([], 100) == (None, {})
    entries = [_entry("keras", "keras", 0.9), _entry("unmeasured", "int8", None)]
    assert choose_shipped(entries, 100) == (None, {})
