"""Text between the recognizer and everything that reads it (standard library only: the Rasa
processes import this package too). :func:`normalize` first, then the answer parsers."""

from ivr.text.digits import digits_in
from ivr.text.items import ITEMS, means_no_problem, parse_item
from ivr.text.normalize import normalize
from ivr.text.rating import parse_rating
from ivr.text.yes_no import parse_yes_no

__all__ = ["ITEMS", "digits_in", "means_no_problem", "normalize", "parse_item", "parse_rating",
           "parse_yes_no"]
