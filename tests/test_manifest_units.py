"""Durations and sizes as natscli writes them."""

import pytest

from reconciler.manifest.units import UnitError, parse_duration, parse_size

S = 1_000_000_000
H = 3600 * S
D = 24 * H


@pytest.mark.parametrize(("text", "nanos"), [
    (0, 0), ("0", 0), (1500, 1500),
    ("1ns", 1), ("2us", 2_000), ("2µs", 2_000), ("2μs", 2_000), ("3ms", 3_000_000), ("30s", 30 * S),
    ("5m", 300 * S), ("2h", 2 * H), ("1d", D), ("1D", D), ("1w", 7 * D), ("1M", 30 * D), ("1y", 365 * D),
    ("1Y", 365 * D), ("1y1d", 366 * D), ("1h30m", 90 * 60 * S), ("1.5h", 90 * 60 * S), (".5s", S // 2),
    ("1m1.1w", 1848 * H // 10 + 60 * S),  # fisk truncates this to 184h; fractions are exact here
])
def test_durations(text, nanos):
    assert parse_duration(text) == nanos


@pytest.mark.parametrize("text", ["", "1", "-1s", "1x", "1 s", " 1s", "s", "1h 30m", "1.2.3s", "1yy", "ms"])
def test_bad_durations(text):
    with pytest.raises(UnitError, match="invalid duration"):
        parse_duration(text)


def test_a_duration_that_would_round_to_zero_is_refused():
    """0 means unset (no limit) to the server: a tiny retention must not become an unlimited one."""
    with pytest.raises(UnitError, match="less than 1ns"):
        parse_duration("0.0000000001s")
    assert parse_duration("1.5ns") == 1 and parse_duration("0.0s") == 0


@pytest.mark.parametrize("text", ["１h", "٣h", "1.５s", "𝟙s"])
def test_digits_are_ascii_only(text):
    with pytest.raises(UnitError, match="invalid duration"):
        parse_duration(text)
    with pytest.raises(UnitError, match="invalid size"):
        parse_size(text.replace("h", "K").replace("s", "K"))


def test_numbers_too_long_to_read_are_unit_errors():
    with pytest.raises(UnitError, match="too many digits"):
        parse_duration("1" * 5_000 + "s")
    with pytest.raises(UnitError, match="too many digits"):
        parse_size("1" * 5_000 + "K")


@pytest.mark.parametrize(("text", "size"), [
    (-1, -1), (0, 0), (1024, 1024), ("1024", 1024), ("10B", 10), ("1K", 1024), ("1KB", 1024), ("1KiB", 1024),
    ("1kb", 1024), ("2MB", 2 << 20), ("2mib", 2 << 20), ("3G", 3 << 30), ("3GB", 3 << 30), ("1TB", 1 << 40),
    ("1TiB", 1 << 40), (" 512 MB ", 512 << 20),
])
def test_sizes_are_1024_based_like_natscli(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "1.5GB", "1PB", "-1", "MB", "1 M B", "1KBB", "1\u00a0K", "1K\n"])
def test_bad_sizes(text):
    with pytest.raises(UnitError, match="invalid size"):
        parse_size(text)
