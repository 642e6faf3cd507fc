"""The workflow as a state machine (hypothesis): whatever sequence of acts is tried, a case
only ever moves along the flow of domain §2, and a forbidden act changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.casework.case import workflow as wf

# What the flow allows, written out from domain §2 independently of the ACTS table.
EXPECTED_EDGES = {
    (wf.REGISTERED, wf.ACCEPTED),
    (wf.REGISTERED, wf.NOT_ACCEPTED),
    (wf.REGISTERED, wf.DIVERTED),
    (wf.ACCEPTED, wf.DIVERTED),
    (wf.ACCEPTED, wf.ASSIGNED),
    (wf.ASSIGNED, wf.ASSIGNED),  # 改派
    (wf.SIGNED, wf.ASSIGNED),
    (wf.IN_PROGRESS, wf.ASSIGNED),
    (wf.ASSIGNED, wf.SIGNED),
    (wf.ASSIGNED, wf.ACCEPTED),  # objected: back to the office
    (wf.SIGNED, wf.IN_PROGRESS),
    (wf.IN_PROGRESS, wf.IN_PROGRESS),
    (wf.IN_PROGRESS, wf.REPLIED),
    (wf.REPLIED, wf.EVALUATED),
    (wf.EVALUATED, wf.CLOSED),  # 办结 only after the evaluation (超期未评价 included)
    (wf.REPLIED, wf.REVIEW_REQUESTED),
    (wf.EVALUATED, wf.REVIEW_REQUESTED),
    (wf.CLOSED, wf.REVIEW_REQUESTED),
    (wf.REVIEW_REQUESTED, wf.REVIEWED),
    (wf.REVIEWED, wf.REEXAM_REQUESTED),
    (wf.REEXAM_REQUESTED, wf.REEXAMINED),
}
# Oversight changes no state: 督办 / 催办 while a unit handles the case, 领导包案 from the
# assignment until the case is final.
HANDLED = {wf.ASSIGNED, wf.SIGNED, wf.IN_PROGRESS}
OVERSIGHT = {
    "supervise": HANDLED,
    "urge": HANDLED,
    "take_charge": HANDLED
    | {wf.REPLIED, wf.EVALUATED, wf.REVIEW_REQUESTED, wf.REVIEWED, wf.REEXAM_REQUESTED},
}


class CaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status = wf.REGISTERED
        self.path = [wf.REGISTERED]
        self.replied = False

    @rule(act=st.sampled_from(sorted(wf.ACTS)))
    def try_act(self, act: str) -> None:
        before = self.status
        try:
            after = wf.next_status(act, before)
        except wf.TransitionError:
            assert act not in wf.allowed_acts(before)
            assert self.status == before  # a forbidden act changes nothing
            return
        assert act in wf.allowed_acts(before)
        if act in OVERSIGHT:
            assert before in OVERSIGHT[act] and after == before, (act, before)
        if before in wf.TERMINAL:
            assert after == before and act == "note"
        if after != before:
            assert (before, after) in EXPECTED_EDGES, (act, before, after)
        if after == wf.REPLIED:
            self.replied = True
        if after == wf.CLOSED and before != wf.CLOSED:
            assert before == wf.EVALUATED, (act, before)
        self.status = after
        self.path.append(after)

    @invariant()
    def valid_state(self) -> None:
        assert self.status in wf.STATES

    @invariant()
    def review_only_after_a_reply(self) -> None:
        if self.status in (wf.REVIEW_REQUESTED, wf.REVIEWED, wf.REEXAM_REQUESTED, wf.REEXAMINED):
            assert self.replied

    @invariant()
    def nothing_after_the_end(self) -> None:
        for i, state in enumerate(self.path[:-1]):
            if state in wf.TERMINAL:
                assert all(s == state for s in self.path[i:])


TestCaseMachine = CaseMachine.TestCase
TestCaseMachine.settings = settings(max_examples=300, stateful_step_count=40)


def test_every_state_is_reachable_from_registered() -> None:
    seen, frontier = {wf.REGISTERED}, [wf.REGISTERED]
    while frontier:
        state = frontier.pop()
        for act in wf.allowed_acts(state):
            nxt = wf.next_status(act, state)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(wf.STATES) - {wf.WITHDRAWN}  # withdrawal comes from the petitioner


@pytest.mark.parametrize("act", sorted(OVERSIGHT))
def test_oversight_acts_are_allowed_exactly_where_the_flow_says(act: str) -> None:
    assert {s for s in wf.STATES if act in wf.allowed_acts(s)} == OVERSIGHT[act]
    assert not wf.ACTS[act].public  # internal: never on the petitioner's timeline


@pytest.mark.parametrize("state", sorted(wf.TERMINAL))
def test_terminal_states_allow_only_notes(state: str) -> None:
    assert wf.allowed_acts(state) == ["note"]


def test_a_case_closes_only_from_evaluated() -> None:
    assert {s for s in wf.STATES if "close" in wf.allowed_acts(s)} == {wf.EVALUATED}


@pytest.mark.parametrize("act", ["decide_review", "pause", "resume", "decide_reexam"])
def test_review_acts_belong_to_the_reviewing_body(act: str) -> None:
    assert wf.ACTS[act].unit == wf.REVIEW
