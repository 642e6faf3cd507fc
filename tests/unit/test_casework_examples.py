"""The OpenAPI examples of the staff API are real requests: each validates against the body
it illustrates, and every act has one."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from services.casework.case.router import _ACT_EXAMPLES
from services.casework.case.schemas import ACT_BODIES, DecisionIn, HandoverIn, RuleIn
from services.casework.deadline.schemas import HolidayYearIn
from services.casework.notice.schemas import DeliveryIn


def test_every_act_has_an_example_its_body_accepts() -> None:
    assert set(_ACT_EXAMPLES) == set(ACT_BODIES)
    for act, example in _ACT_EXAMPLES.items():
        ACT_BODIES[act].model_validate(example["value"])


@pytest.mark.parametrize("model", [DecisionIn, RuleIn, HandoverIn, HolidayYearIn, DeliveryIn])
def test_schema_examples_validate_and_unknown_fields_are_refused(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)
        with pytest.raises(ValidationError):
            model.model_validate({**example, "unexpected": 1})
