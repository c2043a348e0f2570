"""Which emitted events are checked against their schema (ENROLLMENT_VALIDATE_EVENTS)."""
import uuid

import pytest
from marshmallow import ValidationError

from services.enrollment.service_layer.unit_of_work import UnitOfWork, should_validate


def test_sample_checks_the_first_hundred_of_each_type_then_one_in_a_hundred():
    kind = f"hrd.test.{uuid.uuid4().hex}.v1"
    decisions = [should_validate("sample", kind) for _ in range(300)]
    assert all(decisions[:100])
    assert [n for n, checked in enumerate(decisions) if checked and n >= 100] == [100, 200]
    assert should_validate("sample", f"hrd.test.{uuid.uuid4().hex}.v1")  # another type starts afresh


@pytest.mark.parametrize("policy, expected", [("all", True), (True, True), ("none", False), (False, False)])
def test_all_and_none(policy, expected):
    assert all(should_validate(policy, "hrd.enrollment.enrollment.created.v1") is expected for _ in range(150))


def test_a_drifted_payload_is_refused_under_the_production_default():
    uow = UnitOfWork(session_factory=None, engine=None, celery_app=None, validate_events="sample")
    uow.events = []
    with pytest.raises(ValidationError):
        uow.emit("hrd.enrollment.trainee.registered.v1", {"trainee": {"id": "not a number"}})
