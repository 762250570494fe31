"""Deadline monitoring: the obligations of the exchange as data, a Dutch working-day calendar, and
for the stored messages which obligations each opens and closes, which are overdue or due soon.

    from gateway.deadlines import calendar, rules, compute
    rules.load()                                   # the obligations (obligations.yaml)
    calendar.add_working_days(date(2026, 4, 24), 3)   # skips Koningsdag and the weekend
"""
