"""Dispute screening persisted (矛盾纠纷排查): the sweep over open cases, each case's risk
level, the screening ledger (排查台账) and zero reports (零报告). The rules are the pure
``services.analytics.text.screening``."""
