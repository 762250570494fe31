"""Which obligations messages open and close, and their state on a fixed date."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import clock
from gateway.deadlines import compute, rules
from gateway.deadlines.compute import Fact

GEMEENTE, AANBIEDER, CLIENT = "0513", "12345678", "c" * 64
_n = iter(range(10_000))


def msg(kind: str, received: date, *, to_gemeente: bool | None = None, client: str = CLIENT, **kw) -> Fact:
    """A message of `kind`; providers send 305/307/315/317/323, municipalities 301/319/325."""
    if to_gemeente is None:
        to_gemeente = kind in ("305", "307", "315", "317", "323")
    sender, receiver = (AANBIEDER, GEMEENTE) if to_gemeente else (GEMEENTE, AANBIEDER)
    return Fact(f"M{next(_n):05d}", kw.pop("standard", "ijw"), kind, sender, receiver, received, client, **kw)


def one(statuses, obligation: str, message: Fact | None = None):
    found = [s for s in statuses if s.obligation == obligation and (message is None or s.message_id == message.message_id)]
    assert len(found) == 1, found
    return found[0]


def test_every_obligation_names_its_op_code_and_source():
    obs = rules.load()
    ids = {o.id for o in obs}
    assert {"retour", "declaratie-antwoord", "antwoord-verzoek-om-toewijzing", "antwoord-verzoek-om-wijziging",
            "startbericht", "stopbericht"} <= ids
    for o in obs:
        assert o.op.startswith("OP") and o.source.document and o.source.section and o.source.quote
        assert o.tracked or o.why, o.id


def test_a_315_must_be_answered_within_five_working_days_over_koningsdag():
    """A 315 on Thursday 2026-04-23: five working days skip the weekend and Koningsdag (Monday
    27 April), so the 301 or 319 is due on Friday 1 May."""
    request = msg("315", date(2026, 4, 23))
    with clock.fixed("2026-04-30"):
        s = one(compute.evaluate([request], clock.today()), "antwoord-verzoek-om-toewijzing")
    assert (s.party, s.counterparty, s.due, s.state) == (GEMEENTE, AANBIEDER, date(2026, 5, 1), "due_soon")
    with clock.fixed("2026-05-04"):
        assert one(compute.evaluate([request], clock.today()), "antwoord-verzoek-om-toewijzing").state == "overdue"
    with clock.fixed("2026-04-24"):
        assert one(compute.evaluate([request], clock.today()), "antwoord-verzoek-om-toewijzing").state == "open"


@pytest.mark.parametrize("answered, state", [(date(2026, 5, 1), "met"), (date(2026, 5, 4), "late")])
def test_the_answer_closes_it_on_time_or_late(answered, state):
    request = msg("315", date(2026, 4, 23))
    answer = msg("319", answered)
    with clock.fixed("2026-06-01"):
        s = one(compute.evaluate([request, answer], clock.today()), "antwoord-verzoek-om-toewijzing")
    assert (s.closed_by, s.closed, s.state) == (answer.message_id, answered, state)


def test_only_the_right_answer_closes_it():
    request = msg("315", date(2026, 3, 2))
    others = [
        msg("319", date(2026, 3, 3), client="d" * 64),  # another client
        msg("319", date(2026, 3, 3), standard="iwmo"),  # another standard
        msg("323", date(2026, 3, 3)),  # the provider itself, another type
    ]
    with clock.fixed("2026-03-20"):
        s = one(compute.evaluate([request, *others], clock.today()), "antwoord-verzoek-om-toewijzing")
    assert s.state == "overdue" and s.closed_by is None


def test_one_answer_closes_one_request():
    first, second = msg("317", date(2026, 3, 2)), msg("317", date(2026, 3, 3))
    answer = msg("301", date(2026, 3, 4))
    with clock.fixed("2026-03-20"):
        statuses = compute.evaluate([first, second, answer], clock.today())
    assert one(statuses, "antwoord-verzoek-om-wijziging", first).state == "met"
    assert one(statuses, "antwoord-verzoek-om-wijziging", second).state == "overdue"


def test_a_declaration_answer_is_due_within_ten_working_days_over_christmas():
    """323 on Tuesday 2026-12-22: Christmas (25, 26), two weekends and Nieuwjaarsdag put the
    tenth working day on Thursday 2027-01-07."""
    declaration = msg("323", date(2026, 12, 22))
    with clock.fixed("2027-01-07"):
        s = one(compute.evaluate([declaration], clock.today()), "declaratie-antwoord")
    assert (s.due, s.state, s.party) == (date(2027, 1, 7), "due_soon", GEMEENTE)
    with clock.fixed("2027-01-08"):
        assert one(compute.evaluate([declaration], clock.today()), "declaratie-antwoord").state == "overdue"


def test_a_message_with_its_retour_has_met_the_retour_obligation():
    answered = msg("301", date(2026, 3, 6), has_retour=True)
    unanswered = msg("305", date(2026, 3, 6))
    with clock.fixed("2026-03-12"):  # Friday + 3 working days = Wednesday 11 March
        statuses = compute.evaluate([answered, unanswered], clock.today())
    assert one(statuses, "retour", answered).state == "met"
    s = one(statuses, "retour", unanswered)
    assert (s.due, s.state, s.party) == (date(2026, 3, 11), "overdue", GEMEENTE)


@pytest.mark.parametrize(
    "begin, received, state",
    [
        (date(2026, 3, 6), date(2026, 3, 13), "met"),  # Friday start, 5 working days: Friday 13th
        (date(2026, 3, 6), date(2026, 3, 16), "late"),
        (date(2026, 12, 24), date(2027, 1, 4), "met"),  # over Christmas and Nieuwjaarsdag
        (date(2026, 12, 24), date(2027, 1, 5), "late"),
    ],
)
def test_a_start_is_judged_by_its_begin_date(begin, received, state):
    start = msg("305", received, begindatum=begin)
    s = one(compute.evaluate([start], received), "startbericht")
    assert (s.party, s.state, s.opened) == (AANBIEDER, state, begin)


def test_a_retroactive_allocation_counts_from_the_301():
    """Allocated on 2026-03-20 for care that started on 1 March: the start is due five working
    days after the 301 arrived (27 March), not after 1 March."""
    start = msg("305", date(2026, 3, 26), begindatum=date(2026, 3, 1), allocated=date(2026, 3, 20))
    s = one(compute.evaluate([start], date(2026, 3, 26)), "startbericht")
    assert (s.due, s.state) == (date(2026, 3, 27), "met") and "retroactively" in s.note


def test_a_stop_is_due_five_working_days_after_the_end():
    stop = msg("307", date(2026, 4, 30), einddatum=date(2026, 4, 24), reden_beeindiging="02")
    s = one(compute.evaluate([stop], date(2026, 4, 30)), "stopbericht")
    # Friday 24 April + 5 working days, Koningsdag (27th) not counted: Monday 4 May.
    assert (s.due, s.state) == (date(2026, 5, 4), "met")
    late = msg("307", date(2026, 5, 5), einddatum=date(2026, 4, 24), reden_beeindiging="02")
    assert one(compute.evaluate([late], date(2026, 5, 5)), "stopbericht").state == "late"


def test_a_definitive_stop_after_a_temporary_one_is_not_judged_by_its_end_date():
    """3.2 (OP272): after a temporary stop the term runs from when the stop became definitive,
    which no message carries, so a definitive stop with the old end date is not called late."""
    temporary = msg("307", date(2026, 6, 3), einddatum=date(2026, 6, 1), reden_beeindiging="20")
    definitive = msg("307", date(2026, 7, 15), einddatum=date(2026, 6, 1), reden_beeindiging="02", after_temporary_stop=True)
    statuses = compute.evaluate([temporary, definitive], date(2026, 7, 15))
    assert one(statuses, "stopbericht", temporary).state == "met"
    s = one(statuses, "stopbericht", definitive)
    assert s.state == "not_assessed" and "definitive stop after a temporary stop" in s.note


def test_an_answer_closes_the_request_it_names():
    """A 319 carries no client: it closes the request whose ReferentieAanbieder it names."""
    first = msg("315", date(2026, 3, 2), references=frozenset({"VOT-A"}))
    second = msg("315", date(2026, 3, 2), references=frozenset({"VOT-B"}))
    answer = msg("319", date(2026, 3, 3), client=None, references=frozenset({"VOT-B"}), verzoek_antwoord="1")
    statuses = compute.evaluate([first, second, answer], date(2026, 3, 20))
    assert one(statuses, "antwoord-verzoek-om-toewijzing", first).state == "overdue"
    assert one(statuses, "antwoord-verzoek-om-toewijzing", second).closed_by == answer.message_id


def test_in_onderzoek_needs_a_decision_within_eight_weeks():
    request = msg("315", date(2026, 3, 2), references=frozenset({"VOT-A"}))
    onderzoek = msg("319", date(2026, 3, 4), client=None, references=frozenset({"VOT-A"}), verzoek_antwoord="2")
    again = msg("319", date(2026, 3, 20), client=None, references=frozenset({"VOT-A"}), verzoek_antwoord="2")
    statuses = compute.evaluate([request, onderzoek, again], date(2026, 4, 29))
    s = one(statuses, "besluit-na-onderzoek", onderzoek)
    # Another "in onderzoek" is no decision; 56 days after 4 March is 29 April.
    assert (s.party, s.due, s.state) == (GEMEENTE, date(2026, 4, 29), "due_soon")
    decision = msg("301", date(2026, 5, 6), references=frozenset({"VOT-A"}))
    statuses = compute.evaluate([request, onderzoek, again, decision], date(2026, 5, 6))
    s = one(statuses, "besluit-na-onderzoek", onderzoek)
    assert (s.closed_by, s.state) == (decision.message_id, "late")
    # A rejection 319 ("1") decides too.
    rejected = msg("319", date(2026, 4, 1), client=None, references=frozenset({"VOT-A"}), verzoek_antwoord="1")
    assert one(compute.evaluate([request, onderzoek, rejected], date(2026, 5, 6)), "besluit-na-onderzoek", onderzoek).state == "met"


def test_untracked_obligations_open_nothing():
    request = msg("315", date(2026, 3, 2))
    statuses = compute.evaluate([request], date(2026, 9, 1))
    assert not [s for s in statuses if s.obligation == "afwijzing-woonplaatsbeginsel"]
