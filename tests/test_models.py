from datetime import date

import pytest

from presswatch.models import Period, normalise_text, paragraph_id, stable_id


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2022-W38", "week", date(2022, 9, 19), date(2022, 9, 26)),
        ("2021-W01", "week", date(2021, 1, 4), date(2021, 1, 11)),
        ("2020-W53", "week", date(2020, 12, 28), date(2021, 1, 4)),
        ("2022-09", "month", date(2022, 9, 1), date(2022, 10, 1)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 3, 1)),
        ("2022-12", "month", date(2022, 12, 1), date(2023, 1, 1)),
    ],
)
def test_period_parse_gives_half_open_ranges(text, kind, start, end):
    period = Period.parse(text)
    assert (period.kind, period.key, period.start, period.end) == (kind, text, start, end)
    assert start in period and end not in period


@pytest.mark.parametrize("text", ["2022-13", "2022-W60", "2022/09", "W38", ""])
def test_period_parse_rejects_malformed_keys(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_period_containing_and_previous_cross_year_boundaries():
    assert Period.containing("week", date(2023, 1, 1)).key == "2022-W52"
    assert Period.containing("month", date(2023, 1, 1)).previous().key == "2022-12"
    assert Period.containing("week", date(2022, 9, 26)).previous().key == "2022-W38"


def test_normalise_text_folds_quotes_case_and_spaces():
    published = "L\u2019INS  est \u00ab\u00a0d\u00e9ploy\u00e9e\u00a0\u00bb"
    assert normalise_text(published) == normalise_text("l'ins est \" déployée \"")


def test_ids_are_stable_and_depend_on_url_and_normalised_text():
    a = paragraph_id("https://ex.fr/a", "Le DMP progresse.")
    assert a == paragraph_id("https://ex.fr/a", "le  DMP progresse.")
    assert a != paragraph_id("https://ex.fr/b", "Le DMP progresse.")
    assert len(a) == 16 and stable_id("x") == stable_id("x")
