"""Answers people actually write: percentages, day-first dates, open ranges, places at sea, and
error messages that show an answer which would be accepted."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake import fields
from intake.fields import InvalidAnswer, parse, parse_date, parse_date_range, parse_percent, parse_sea_area
from intake.i18n import translator
from intake.questionnaire import load_default

t = translator("en")
Q = load_default().questions()


# ---- percentages -----------------------------------------------------------------------------


@given(st.integers(0, 100))
def test_percent_question_takes_the_sign_and_plain_numbers(n: int) -> None:
    share = Q["owner_share"]
    for text in (f"{n}", f"{n}%", f"{n} %", f"{n} percent", f"about {n}%", f"{n} per cent"):
        assert parse(share, text) == n


def test_percent_decimals_bounds_and_display() -> None:
    share = Q["owner_share"]
    assert parse(share, "51%") == 51
    assert parse(share, "33.5%") == 33.5 and parse(share, "33,5 %") == 33.5
    assert parse(share, "12.345%") == 12.35
    assert fields.display(share, 51, "en") == "51%"
    with pytest.raises(InvalidAnswer, match="between 0 and 100"):
        parse(share, "120%")
    with pytest.raises(InvalidAnswer) as err:
        parse(share, "half")
    assert "51%" in err.value.message
    assert parse_percent("7", t) == 7
    # a plain number question still wants a whole number: the sign is only for percentages
    with pytest.raises(InvalidAnswer, match="whole number"):
        parse(Q["victims_count"], "51%")


# ---- day-first dates -------------------------------------------------------------------------


@given(st.integers(1900, 2100), st.integers(1, 12), st.data())
def test_day_first_with_dots_always_and_with_slashes_when_clear(year: int, month: int, data: st.DataObject) -> None:
    day = data.draw(st.integers(1, calendar.monthrange(year, month)[1]))
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    assert parse_date(f"{day:02d}.{month:02d}.{year}", t)["date"] == iso
    assert parse_date(f"{day}.{month}.{year}", t)["date"] == iso
    if day > 12 or day == month:
        assert parse_date(f"{day:02d}/{month:02d}/{year}", t)["date"] == iso
        assert parse_date(f"{day}-{month}-{year}", t)["date"] == iso
    else:
        with pytest.raises(InvalidAnswer, match="year first"):
            parse_date(f"{day:02d}/{month:02d}/{year}", t)
    if day > 12:  # month first is the only reading as well
        assert parse_date(f"{month:02d}/{day:02d}/{year}", t)["date"] == iso


def test_the_examples_from_the_issue_and_more_forms() -> None:
    assert parse_date("15.06.2016", t) == {"date": "2016-06-15", "approx": False}
    assert parse_date("15/06/2016", t)["date"] == "2016-06-15"
    assert parse_date("about 15.06.2016", t) == {"date": "2016-06-15", "approx": True}
    assert parse_date("15th June 2016", t)["date"] == "2016-06-15"
    assert parse_date("June 15th, 2016", t)["date"] == "2016-06-15"
    assert parse_date("06/2016", t)["date"] == "2016-06"
    assert parse_date("mid-2019", t) == {"date": "2019", "approx": True}
    assert parse_date("Sept 2019", t)["date"] == "2019-09"
    with pytest.raises(InvalidAnswer) as err:
        parse_date("05/03/2021", t)
    assert "2021-03-05" in err.value.message  # the example is the day-first reading, in ISO order
    assert parse_date(err.value.message.split("e.g. ")[1].split(",")[0], t)["date"] == "2021-03-05"
    with pytest.raises(InvalidAnswer, match="no month 14"):
        parse_date("31/14/2016", t)
    with pytest.raises(InvalidAnswer, match="does not exist"):
        parse_date("31.02.2016", t)


# ---- open ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["since March 2022", "March 2022 -", "March 2022 –", "March 2022 —", "March 2022 to", "March 2022 onwards",
     "from March 2022 onwards", "March 2022 to now", "March 2022 - present", "2022-03 to date", "March 2022…",
     "starting in March 2022", "03.2022 -"],
)
def test_open_ranges(text: str) -> None:
    value = parse_date_range(text, t)
    assert value == {"start": {"date": "2022-03", "approx": False}, "end": None, "ongoing": True}


@given(st.integers(1900, 2100), st.sampled_from(["-", "–", "—", "onwards", "to now"]), st.booleans())
def test_open_ranges_for_any_year(year: int, tail: str, about: bool) -> None:
    text = f"{'about ' if about else ''}{year} {tail}"
    value = parse_date_range(text, t)
    assert value["ongoing"] is True and value["end"] is None
    assert value["start"] == {"date": f"{year:04d}", "approx": about}


def test_closed_ranges_with_day_first_dates() -> None:
    value = parse_date_range("15.06.2016 - 20.07.2017", t)
    assert value["start"]["date"] == "2016-06-15" and value["end"]["date"] == "2017-07-20" and not value["ongoing"]


def test_range_errors_show_a_range_that_would_be_accepted() -> None:
    dates = Q["abuse_dates"]
    with pytest.raises(InvalidAnswer) as err:
        parse(dates, "last spring until the summer")
    message = err.value.message
    assert "since March 2022" in message and "2019 to 2021" in message
    for shown in ("2019 to 2021", "2019-03 – 2021", "since March 2022"):
        assert parse(dates, shown)["start"]
    with pytest.raises(InvalidAnswer, match="before the start") as err:
        parse(dates, "2021 to 2019")
    assert "2019 to 2021" in err.value.message


# ---- places at sea ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("High seas", {"kind": "high_seas"}),
        ("on the high seas", {"kind": "high_seas"}),
        ("international waters", {"kind": "high_seas"}),
        ("EEZ of Ghana", {"kind": "eez", "country": "GH"}),
        ("Ghana EEZ", {"kind": "eez", "country": "GH"}),
        ("Ghana's EEZ", {"kind": "eez", "country": "GH"}),
        ("the exclusive economic zone of Papua New Guinea", {"kind": "eez", "country": "PG"}),
        ("territorial waters of Thailand", {"kind": "territorial_waters", "country": "TH"}),
        ("Indonesian waters", None),
        ("waters off Somalia", {"kind": "territorial_waters", "country": "SO"}),
        ("5.3 N, 3.2 W", {"kind": "coordinates", "lat": 5.3, "lon": -3.2}),
        ("5.3N 3.2W", {"kind": "coordinates", "lat": 5.3, "lon": -3.2}),
        ("3.2 W 5.3 N", {"kind": "coordinates", "lat": 5.3, "lon": -3.2}),
        ("-12.5, 130.25", {"kind": "coordinates", "lat": -12.5, "lon": 130.25}),
        ("5°18'N 3°12'W", {"kind": "coordinates", "lat": 5.3, "lon": -3.2}),
        ("S 8° 30' E 115° 15'", {"kind": "coordinates", "lat": -8.5, "lon": 115.25}),
    ],
)
def test_places_at_sea(text: str, value: dict[str, object] | None) -> None:
    if value is None:
        with pytest.raises(InvalidAnswer) as err:
            parse_sea_area(text, t)
        assert "EEZ of Ghana" in err.value.message and "5.3 N, 3.2 W" in err.value.message
        return
    assert parse_sea_area(text, t) == value


@given(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False))
def test_any_decimal_position_round_trips_through_its_display(lat: float, lon: float) -> None:
    area = Q["loc_sea_area"]
    value = parse(area, f"{lat:.5f}, {lon:.5f}")
    assert value["kind"] == "coordinates"
    assert abs(value["lat"] - lat) < 1e-5 and abs(value["lon"] - lon) < 1e-5
    assert parse(area, fields.display(area, value, "en")) == value


def test_impossible_positions_and_unknown_places_are_refused() -> None:
    with pytest.raises(InvalidAnswer, match="Latitude"):
        parse_sea_area("95 N, 3 W", t)
    with pytest.raises(InvalidAnswer, match="Latitude"):
        parse_sea_area("5 N, 190 E", t)
    with pytest.raises(InvalidAnswer):
        parse_sea_area("5 N, 3 N", t)
    with pytest.raises(InvalidAnswer, match="do not know the country"):
        parse_sea_area("EEZ of Atlantis", t)
    area = Q["loc_sea_area"]
    assert fields.display(area, {"kind": "eez", "country": "GH"}, "en") == "Exclusive economic zone of Ghana (GH)"
    assert fields.display(area, {"kind": "high_seas"}, "en") == "High seas"


@given(st.text(max_size=30))
def test_sea_area_never_raises_anything_but_invalid_answer(text: str) -> None:
    try:
        value = parse_sea_area(text, t)
    except InvalidAnswer as exc:
        assert exc.message
    else:
        assert value["kind"] in ("high_seas", "eez", "territorial_waters", "coordinates")


@given(st.text(max_size=30))
def test_ranges_never_raise_anything_but_invalid_answer(text: str) -> None:
    try:
        value = parse_date_range(text, t)
    except InvalidAnswer as exc:
        assert exc.message
    else:
        assert 4 <= len(value["start"]["date"]) <= 10
