from django import template

from cacaotours.core.money import Money

register = template.Library()


@register.filter
def money(value, currency=None):
    """``{{ tour.adult_price|money }}`` or ``{{ cents|money:"PEN" }}``."""
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return value.format()
    return Money(int(value), currency or "PEN").format()
