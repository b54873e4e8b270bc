"""Field parsing: every type, with property tests for dates, countries and numbers."""

from __future__ import annotations

import calendar

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.fields import (
    InvalidAnswer,
    parse,
    parse_countries,
    parse_country,
    parse_date,
    parse_date_range,
    parse_number,
)
from intake.i18n import translator
from intake.localise.countries import AMBIGUOUS
from intake.questionnaire import load_default

t = translator("en")
Q = load_default().questions()


@given(st.integers(1900, 2100), st.integers(1, 12), st.data())
def test_date_roundtrip(year: int, month: int, data: st.DataObject) -> None:
    day = data.draw(st.integers(1, calendar.monthrange(year, month)[1]))
    assert parse_date(f"{year}", t) == {"date": f"{year:04d}", "approx": False}
    assert parse_date(f"{year}-{month}", t) == {"date": f"{year:04d}-{month:02d}", "approx": False}
    full = parse_date(f"{year}-{month:02d}-{day:02d}", t)
    assert full == {"date": f"{year:04d}-{month:02d}-{day:02d}", "approx": False}
    assert parse_date(f"about {year}-{month:02d}", t)["approx"] is True
    assert parse_date(f"~{year}", t) == {"date": f"{year:04d}", "approx": True}
    assert parse_date(f"{calendar.month_name[month]} {year}", t)["date"] == f"{year:04d}-{month:02d}"


@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(29, 40))
def test_impossible_days_are_refused(year: int, month: int, day: int) -> None:
    if day <= calendar.monthrange(year, month)[1]:
        return
    with pytest.raises(InvalidAnswer, match="does not exist"):
        parse_date(f"{year}-{month:02d}-{day:02d}", t)


@given(st.text(max_size=30))
def test_date_never_raises_anything_but_invalid_answer(text: str) -> None:
    try:
        value = parse_date(text, t)
    except InvalidAnswer as exc:
        assert exc.message
    else:
        assert 4 <= len(value["date"]) <= 10


def test_date_errors_are_plain_words() -> None:
    with pytest.raises(InvalidAnswer) as err:
        parse_date("last spring", t)
    assert "Please give a date like 2021, 2021-03 or 2021-03-15" in err.value.message
    with pytest.raises(InvalidAnswer, match="year first"):
        parse_date("05/03/2021", t)  # 5 March or May 3: refused, with the ISO example
    assert parse_date("15/03/2021", t)["date"] == "2021-03-15"  # only one reading
    with pytest.raises(InvalidAnswer, match="no month 13"):
        parse_date("2021-13", t)


@given(st.integers(1900, 2099), st.integers(0, 20))
def test_date_ranges(start: int, span: int) -> None:
    end = min(2100, start + span)
    for text in (f"{start} to {end}", f"{start}-{end}", f"{start} – {end}", f"from {start} until {end}"):
        value = parse_date_range(text, t)
        assert value["start"]["date"] == str(start) and value["end"]["date"] == str(end)
    assert parse_date_range(f"since {start}", t) == {"start": {"date": str(start), "approx": False}, "end": None, "ongoing": True}
    assert parse_date_range(f"{start}-03 to now", t)["ongoing"] is True


def test_date_range_order_checked() -> None:
    with pytest.raises(InvalidAnswer, match="before the start"):
        parse_date_range("2021 to 2019", t)


@given(st.sampled_from(list(pycountry.countries)))
def test_every_country_by_code_and_name(country: object) -> None:
    code = country.alpha_2  # type: ignore[attr-defined]
    assert parse_country(code, t) == code
    assert parse_country(code.lower(), t) == code
    assert parse_country(country.alpha_3, t) == code  # type: ignore[attr-defined]
    if country.name.casefold() in AMBIGUOUS["en"]:  # type: ignore[attr-defined]  # "Congo", "Sudan", "Guinea": a choice
        with pytest.raises(InvalidAnswer, match="could mean several countries"):
            parse_country(country.name, t)  # type: ignore[attr-defined]
        return
    assert parse_country(country.name, t) == code  # type: ignore[attr-defined]
    assert parse_country(country.name.upper(), t) == code  # type: ignore[attr-defined]


def test_country_common_names_and_errors() -> None:
    assert parse_country("UK", t) == "GB"
    assert parse_country("Russia", t) == "RU"
    assert parse_country("United States", t) == "US"
    assert parse_countries("Nigeria, Ghana and UK", t) == ["NG", "GH", "GB"]
    with pytest.raises(InvalidAnswer, match="do not know the country"):
        parse_country("Atlantis", t)


@given(st.integers(0, 10**9))
def test_numbers(n: int) -> None:
    assert parse_number(str(n), t) == n
    assert parse_number(f"{n:,}", t) == n
    assert parse_number(f"about {n}", t) == n


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"]), min_size=1, max_size=12))
def test_non_numbers_refused(text: str) -> None:
    with pytest.raises(InvalidAnswer):
        parse_number(text, t)


def test_number_bounds() -> None:
    with pytest.raises(InvalidAnswer, match="between 0 and"):
        parse_number("-3", t)
    with pytest.raises(InvalidAnswer, match="whole number"):
        parse_number("a dozen", t)


def test_choices_by_number_id_and_words() -> None:
    kind = Q["perp_kind"]
    assert parse(kind, "1") == kind.options[0].id
    assert parse(kind, kind.options[1].id) == kind.options[1].id
    assert parse(kind, kind.options[2].text.get("en").upper()) == kind.options[2].id
    with pytest.raises(InvalidAnswer, match="choose one of the options"):
        parse(kind, "99")
    forms = Q["abuse_forms"]
    assert parse(forms, "1, 3") == [forms.options[0].id, forms.options[2].id]
    assert parse(forms, "3 1") == [forms.options[0].id, forms.options[2].id]
    with pytest.raises(InvalidAnswer, match="could not match"):
        parse(forms, "1, banana")


def test_yes_no_email_url_text() -> None:
    assert parse(Q["declaration"], "Yes") is True
    assert parse(Q["declaration"], "n") is False
    with pytest.raises(InvalidAnswer, match="yes or no"):
        parse(Q["declaration"], "perhaps")
    assert parse(Q["contact_email"], " Someone@Example.ORG ") == "Someone@example.org"
    with pytest.raises(InvalidAnswer, match="email address"):
        parse(Q["contact_email"], "not-an-email")
    assert parse(Q["ev_url"], "www.example.org/x") == "https://www.example.org/x"
    with pytest.raises(InvalidAnswer, match="https://"):
        parse(Q["ev_url"], "javascript:alert(1)")
    with pytest.raises(InvalidAnswer, match="too long"):
        parse(Q["org_name"], "x" * 600)
    with pytest.raises(InvalidAnswer, match="type an answer"):
        parse(Q["org_name"], "   ")
    with pytest.raises(InvalidAnswer, match="send the file"):
        parse(Q["ev_file"], "here it is")
