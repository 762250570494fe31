"""An Issue as JSON text, written directly: `json.dumps(store.issue_dict(issue))` without the dict.

A rejected 100,000-prestatie declaration stores 100,000 issues: making a dict of each and
encoding it took some 7 microseconds an issue, 6% of the whole check; this writes the same text
in a fifth of that. Only for a validators.issues.Issue whose fields have the types it declares;
anything else (a dict, a subclass, a value of another type) is encoded by json.dumps as before.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote  # json.dumps's own (C) string encoder
from typing import Any

from validators.issues import Issue


def issue_json(issue: Any, as_dict: Any) -> str:
    """`json.dumps(as_dict(issue))` (as_dict: store.issue_dict), the same text."""
    if issue.__class__ is Issue:
        try:
            return _written(issue)
        except TypeError:  # a field not of its declared type: json.dumps decides
            pass
    return json.dumps(as_dict(issue))


def _written(i: Issue) -> str:
    line = i.line
    if line is None:
        line_text = "null"
    elif line.__class__ is int:
        line_text = int.__repr__(line)  # as json.dumps writes an int
    else:
        raise TypeError("line")
    locations = i.locations or ([i.path] if i.path else [])  # Issue.all_locations
    if locations.__class__ is not list:
        raise TypeError("locations")
    return (f'{{"rule": {_quote(i.rule)}, "severity": {_quote(i.severity)}, "path": {_optional(i.path)}, '
            f'"locations": [{", ".join(map(_quote, locations))}], "line": {line_text}, "text": {_quote(i.text)}, '
            f'"retourcode": {_optional(i.retourcode)}, "class_path": {_optional(i.class_path)}, '
            f'"action": {_quote(i.action)}}}')


def _optional(value: str | None) -> str:
    return "null" if value is None else _quote(value)
