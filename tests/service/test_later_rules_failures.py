"""A failing rule or store is the gateway's fault: it aborts the message instead of judging it."""


import pytest
from lxml import etree
from sqlalchemy import exc as sa_exc

from gateway import clock, samples
from gateway.catalog import by_code
from gateway.pipeline import run_later_rules
from validators import engine
from validators.engine import RuleContext
from validators.faults import RuleFailed


@pytest.fixture
def failing_rule():
    """Registers rule ZZ999 on JW305 raising whatever the test puts in `raised`; removed after."""
    raised: list[Exception] = []

    def check(rule, ctx):
        raise raised[0]

    engine.load_all()
    engine.rule("ZZ999", retourcode="9019", level="crossmessage", messages=["305"],
                summary="test rule that fails")(check)
    try:
        yield raised
    finally:
        engine.REGISTRY.pop("ZZ999", None)


def _ctx() -> RuleContext:
    root = etree.fromstring(samples.build("JW305"))
    return RuleContext(root=root, mtype=by_code("JW305"), today=clock.today())


def test_a_rule_that_raises_aborts_instead_of_rejecting(failing_rule):
    failing_rule.append(ValueError("bug in the rule"))
    with pytest.raises(RuleFailed) as raised:
        run_later_rules(_ctx(), only=frozenset({"ZZ999"}))
    assert raised.value.rule == "ZZ999" and "bug in the rule" not in str(raised.value)


def test_a_store_failure_inside_a_rule_aborts_instead_of_rejecting(failing_rule):
    failing_rule.append(sa_exc.OperationalError("select 1", {}, Exception("database is locked")))
    with pytest.raises(sa_exc.OperationalError):
        run_later_rules(_ctx(), only=frozenset({"ZZ999"}))
