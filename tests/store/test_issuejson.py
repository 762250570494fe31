"""gateway.store.issuejson writes an issue's stored JSON text without its dict: the same text."""

import json

import pytest

from gateway.store.issuejson import issue_json
from gateway.store.store import _encoded_issues, issue_dict
from validators.issues import Issue

ISSUES = [
    Issue(rule="TR338", path="/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]/ToewijzingNummer",
          line=12, text="no toewijzing 100001 of gemeente 0599", retourcode="8002",
          class_path="/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie[2]"),
    Issue(rule="XSD", text='é "quoted" \\ back\nnew\ttab \x01 \u2028 😀'),  # no path: no locations
    Issue(rule="TR101", severity="warning", path="/a", locations=["/a", "/b[2]", "/ü"], line=0,
          text="", action="flag"),
    Issue(rule="CR001", path="", line=-3, text="x", retourcode=None, class_path=""),
]


@pytest.mark.parametrize("issue", ISSUES, ids=range(len(ISSUES)))
def test_text_is_json_dumps_of_the_dict(issue):
    assert issue_json(issue, issue_dict) == json.dumps(issue_dict(issue))


class Marked(Issue):
    pass


@pytest.mark.parametrize("odd", [
    {"rule": "TR338", "text": "a dict", "extra": [1, 2.5, None]},
    Issue(rule="TR338", text="bool line", line=True),
    Issue(rule="TR338", text="tuple locations", locations=("/a", "/b")),
    Issue(rule="TR338", text="int retourcode", retourcode=8002),
    Marked(rule="TR338", text="a subclass"),
], ids=["dict", "bool", "tuple", "int", "subclass"])
def test_anything_else_is_left_to_json_dumps(odd):
    assert issue_json(odd, issue_dict) == json.dumps(issue_dict(odd))


def test_encoded_issues_keep_the_first_of_each_rule():
    issues = [*ISSUES, {"rule": "TR999", "text": "d"}, ISSUES[0], {"rule": "", "text": "no rule"}]
    value, firsts = _encoded_issues(issues)
    assert value.value == json.dumps([issue_dict(i) for i in issues])
    assert firsts == [issue_dict(i) for i in [*ISSUES, issues[4]]]
