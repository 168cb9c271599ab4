"""Rule JSON per kind: validation names the problem, matching follows the documented semantics."""

import json

import pytest

from core.territories.rules import AccountFacts, RuleError, compile_rule, county_of_zip, parse_rule, validate_rule


def facts(**kw):
    base = dict(id=1, name="Acme", state="TX", postal_code="77002", county="Harris County", lat=29.75, lon=-95.36,
                industry="Healthcare", employees=120, segment="Mid-Market", customer_type="Customer",
                products=("Analytics",), channel="Direct", external_id="001X")
    base.update(kw)
    return AccountFacts(**base)


def test_county_comes_from_the_zip_code():
    assert county_of_zip("77002") == "Harris County"
    assert county_of_zip("75201-1234") == "Dallas County"
    assert county_of_zip(None) is None


@pytest.mark.parametrize("rule, account, expected", [
    ({"state": "TX", "counties": ["Harris County"]}, facts(), True),            # the demo's format
    ({"state": "TX", "counties": ["harris county"]}, facts(), True),            # case-insensitive
    ({"state": "TX", "counties": ["Dallas County"]}, facts(), False),
    ({"state": "OK", "counties": ["Harris County"]}, facts(), False),           # state AND area
    ({"states": ["TX", "OK"]}, facts(), True),
    ({"zips": ["77002"]}, facts(), True),
    ({"zip3": ["770"]}, facts(), True),
    ({"zip3": ["750"]}, facts(), False),
    ({"counties": ["Dallas County"], "zips": ["77002"]}, facts(), True),         # area keys are OR
    ({"polygon": [[29, -96], [30.5, -96], [30.5, -95], [29, -95]]}, facts(), True),
    ({"polygon": [[31, -96], [32, -96], [32, -95], [31, -95]]}, facts(), False),
    ({"industries": ["healthcare"]}, facts(), True),
    ({"industries": ["Retail"]}, facts(), False),
    ({"employees_min": 100, "employees_max": 500}, facts(), True),
    ({"employees_min": 500}, facts(), False),
    ({"employees_max": 50}, facts(employees=None), False),
    ({"segments": ["Mid-Market"]}, facts(), True),
    ({"customer_types": ["Prospect"]}, facts(), False),
    ({"products": ["Analytics", "Training"]}, facts(), True),
    ({"products": ["Training"]}, facts(), False),
    ({"channels": ["Partner"]}, facts(), False),
    ({"account_ids": [1, 2]}, facts(), True),
    ({"external_ids": ["001X"]}, facts(id=9), True),
    ({"account_ids": [5]}, facts(), False),
    ({"industries": ["Healthcare"], "states": ["OK"]}, facts(), False),          # criteria are AND
])
def test_matching(rule, account, expected):
    assert compile_rule(rule)(account) is expected


@pytest.mark.parametrize("rule, word", [
    ({"zips": ["7700"]}, "zips"),
    ({"zip3": [770]}, "zip3"),
    ({"states": ["Texas"]}, "states"),
    ({"polygon": [[1, 2], [3, 4]]}, "polygon"),
    ({"polygon": [[1, 2], [3, 4], [200, 4]]}, "polygon"),
    ({"employees_min": -1}, "employees_min"),
    ({"employees_min": 10, "employees_max": 5}, "employees_min"),
    ({"account_ids": ["x"]}, "account_ids"),
    ({"colour": "red"}, "colour"),
    ({"industries": "Retail"}, "industries"),
    ({}, "no criteria"),
])
def test_bad_rules_are_refused_with_the_key_named(rule, word):
    problems = validate_rule(rule)
    assert problems and word in problems[0]
    with pytest.raises(RuleError):
        compile_rule(rule)


def test_parse_rule_reports_bad_json():
    assert parse_rule('{"states": ["TX"]}') == {"states": ["TX"]}
    with pytest.raises(RuleError, match="JSON"):
        parse_rule("{states")
    with pytest.raises(RuleError, match="object"):
        parse_rule(json.dumps(["TX"]))
