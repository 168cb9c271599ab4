"""Counts in words: one thing is singular, irregular plurals read right, big counts are separated."""

from core.words import counted


def test_one_is_singular_and_others_are_plural():
    assert counted(1, "account") == "1 account"
    assert counted(0, "account") == "0 accounts"
    assert counted(2, "new conflict") == "2 new conflicts"


def test_irregular_plurals_and_thousands():
    assert counted(1, "territory") == "1 territory"
    assert counted(9, "territory") == "9 territories"
    assert counted(9, "person") == "9 people"
    assert counted(2, "day off") == "2 days off"
    assert counted(1500, "account") == "1,500 accounts"
    assert counted(3, "bus", "buses") == "3 buses"
