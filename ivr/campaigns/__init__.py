"""Outbound callback campaigns: who to call, when, how often, the dialer and the report.

Import the parts directly (``ivr.campaigns.service``, ``ivr.campaigns.cli`` ...). Pure rules
(``windows``, ``rules``, ``eligibility``, ``retry``) take the time as an argument; everything
with I/O takes a ``clock`` callable, so tests decide what "now" is and never sleep.
"""
