"""Durations and threshold quantities (src/monstack/spec/units.py): what people write in the guide's tables,
parsed strictly into Prometheus' base units, printed back canonically, refused with the accepted forms."""

from __future__ import annotations

import pytest

from monstack.errors import MonstackError
from monstack.load import load_text
from monstack.spec.parse import parse
from monstack.spec.units import Duration, Quantity

SECOND, MINUTE, HOUR, DAY, WEEK = 1000, 60_000, 3_600_000, 86_400_000, 604_800_000


def quotes(value, message: str) -> bool:
    """The message shows what was written, quoted (either quote style), so blanks and empty input are visible."""
    return repr(value) in message or (isinstance(value, str) and f'"{value}"' in message)


# --- durations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ms", "canonical"), [
    ("30s", 30 * SECOND, "30s"),
    ("1h30m", HOUR + 30 * MINUTE, "1h30m"),
    ("500ms", 500, "500ms"),
    ("2d", 2 * DAY, "2d"),
    ("5m", 5 * MINUTE, "5m"),
    ("0s", 0, "0s"),
    ("1m30s", 90 * SECOND, "1m30s"),
    ("1s500ms", 1500, "1s500ms"),
    ("1w", WEEK, "1w"),
    ("1y", 365 * DAY, "1y"),
    ("1d12h", DAY + 12 * HOUR, "1d12h"),
])
def test_duration_parses_to_milliseconds_and_prints_canonically(text, ms, canonical):
    d = Duration.parse(text)
    assert d.ms == ms
    assert str(d) == canonical
    assert d.seconds == ms / 1000
    assert Duration.parse(str(d)) == d  # the canonical form reads back to the same value


@pytest.mark.parametrize(("text", "canonical"), [
    ("90m", "1h30m"),  # carried into the larger unit, as Prometheus prints it
    ("90s", "1m30s"),
    ("1500ms", "1s500ms"),
    ("48h", "2d"),
    ("7d", "1w"),
    ("120s", "2m"),
])
def test_duration_canonical_form_uses_largest_units_first(text, canonical):
    assert str(Duration.parse(text)) == canonical


def test_durations_compare_by_length_not_text():
    assert Duration.parse("90s") == Duration.parse("1m30s")
    assert Duration.parse("59s") < Duration.parse("1m") < Duration.parse("61s")
    assert Duration.parse(" 5m ") == Duration.parse("5m")  # surrounding blanks from YAML are harmless


@pytest.mark.parametrize("bad", ["5 minutes", "5", "1x", "-5m", "", "   ", "5m30", "1h1h", "m", "5M", "1.5h", "5mins"])
def test_invalid_duration_strings_are_refused_with_the_accepted_forms(bad):
    with pytest.raises(ValueError) as info:
        Duration.parse(bad)
    message = str(info.value)
    assert "invalid duration" in message
    assert quotes(bad, message)  # says what was written...
    assert "30s" in message and "5m" in message  # ...and what is accepted
    assert all(unit in message for unit in ("ms", "s", "m", "h", "d", "w", "y"))


@pytest.mark.parametrize("bad", [True, False, 5, 300, 1.5, None, ["5m"]])
def test_non_string_durations_are_refused_and_ask_for_a_unit(bad):
    """A bare number has no unit (YAML `for: 5` is 5 what?) and a boolean is never a duration."""
    with pytest.raises(ValueError) as info:
        Duration.parse(bad)
    assert "invalid duration" in str(info.value)
    assert "unit" in str(info.value)


def test_a_bad_duration_in_a_spec_points_at_its_line():
    text = (
        "version: monstack/v1\n"
        "project: {name: demo}\n"
        "defaults:\n"
        "  scrape_interval: 5 minutes\n"
        "targets:\n"
        "  - {name: api, kind: app, address: 'api:8000'}\n"
        "routing:\n"
        "  receiver: team\n"
        "  receivers: [{name: team, webhook: {url: 'http://hook:5000/'}}]\n"
    )
    with pytest.raises(MonstackError) as info:
        parse(load_text(text, "demo.yaml"))
    [diagnostic] = info.value.diagnostics
    assert diagnostic.file == "demo.yaml"
    assert diagnostic.line == 4
    assert diagnostic.path == ("defaults", "scrape_interval")
    assert "5 minutes" in diagnostic.message and "1h30m" in diagnostic.message


# --- thresholds ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("5%", 0.05),
    ("99.9%", 0.999),  # exactly the float 0.999, not 99.9 / 100 == 0.9990000000000001
    ("0.1%", 0.001),
    ("80%", 0.8),
    ("100%", 1.0),
    ("12.5%", 0.125),
])
def test_percentages_are_exact_fractions(text, value):
    q = Quantity.parse(text)
    assert q.kind == "percent"
    assert q.value == value  # exact equality on purpose: the number is printed into PromQL
    assert str(q) == text


@pytest.mark.parametrize(("text", "per_second", "per", "amount"), [
    ("10/min", 10 / 60, 60, 10),
    ("100/h", 100 / 3600, 3600, 100),
    ("5/s", 5.0, 1, 5),
    ("2/d", 2 / 86400, 86400, 2),
    ("1.5/minute", 1.5 / 60, 60, 1.5),
])
def test_rates_keep_the_per_second_value_and_their_own_unit(text, per_second, per, amount):
    q = Quantity.parse(text)
    assert q.kind == "rate"
    assert q.value == pytest.approx(per_second, rel=1e-12)
    assert q.per == per
    assert q.per_unit == amount  # "10/min" compares 10 with an increase over one minute


@pytest.mark.parametrize(("text", "seconds"), [("1s", 1.0), ("5m", 300.0), ("500ms", 0.5), ("1h30m", 5400.0)])
def test_duration_thresholds_are_in_seconds(text, seconds):
    q = Quantity.parse(text)
    assert (q.kind, q.value) == ("duration", seconds)


@pytest.mark.parametrize(("text", "size"), [
    ("512MiB", 512 * 1024 * 1024),
    ("1GiB", 1 << 30),
    ("2KiB", 2048),
    ("2GB", 2_000_000_000),
    ("100B", 100),
])
def test_byte_sizes_distinguish_binary_and_decimal_units(text, size):
    q = Quantity.parse(text)
    assert (q.kind, q.value) == ("bytes", size)


@pytest.mark.parametrize(("raw", "value", "text"), [
    (10, 10.0, "10"),
    (0, 0.0, "0"),
    (0.5, 0.5, "0.5"),
    ("10", 10.0, "10"),
    ("1.5", 1.5, "1.5"),
    ("1e3", 1000.0, "1e3"),
])
def test_plain_numbers(raw, value, text):
    q = Quantity.parse(raw)
    assert (q.kind, q.value, str(q)) == ("number", value, text)
    assert q.per_unit == value


@pytest.mark.parametrize("bad", ["5 parsecs", "5 minutes", "-5m", "", "abc", "%", "5%%", "1x", None, [1], {"a": 1}])
def test_invalid_thresholds_list_the_accepted_forms(bad):
    with pytest.raises(ValueError) as info:
        Quantity.parse(bad)
    message = str(info.value)
    assert "invalid threshold" in message and quotes(bad, message)
    assert all(form in message for form in ("5%", "10/min", "512MiB"))


@pytest.mark.parametrize("bad", [True, False])
def test_booleans_are_not_numbers_here(bad):
    """In Python True == 1; as a threshold it is a YAML mistake (`above: yes`), not the number one."""
    with pytest.raises(ValueError, match="invalid threshold"):
        Quantity.parse(bad)


def test_an_unknown_rate_unit_names_the_accepted_ones():
    with pytest.raises(ValueError) as info:
        Quantity.parse("10/fortnight")
    message = str(info.value)
    assert "10/fortnight" in message
    assert all(unit in message for unit in ("s", "min", "h", "d"))


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        Quantity.parse(bad)
