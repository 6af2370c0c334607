import pytest


@pytest.mark.parametrize(
    ("typed", "number"),
    [("12.500,00", "12500.00"), ("12,5", "12.5"), ("1.234", "1234"), ("12.50", "12.50")],
)
def test_amounts_are_read_the_german_way(typed, number):
    from decimal import Decimal

    from core.forms import GermanDecimalField

    assert GermanDecimalField(decimal_places=2).clean(typed) == Decimal(number)
