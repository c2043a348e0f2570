import pytest
from marshmallow import ValidationError

from shared.events import CATALOGUE, EnvelopeSchema, make_envelope, subscribers_for
from shared.events.envelope import TYPE_PATTERN


def _created_payload(**over):
    p = {"enrollment_id": 1, "version": 1, "status": "confirmed",
         "trainee": {"id": 1, "employee_no": "E1", "name": "김서울"},
         "course": {"id": 2, "code": "C19-001", "year": 2019, "name_ko": "과정", "delivery": "classroom",
                    "competency_area": "job"},
         "session": {"id": 3, "starts_on": "2019-03-04", "ends_on": "2019-03-05"}}
    p.update(over)
    return p


def test_every_catalogued_type_is_reverse_dns_and_versioned():
    for event_type in CATALOGUE:
        assert TYPE_PATTERN.match(event_type), event_type
        assert event_type.startswith("hrd.enrollment.")


def test_envelope_round_trips_through_its_schema():
    env = make_envelope("hrd.enrollment.enrollment.created.v1", "enrollment", _created_payload(),
                        correlation_id="abc")
    loaded = EnvelopeSchema().load(env.to_dict())
    assert loaded["type"] == "hrd.enrollment.enrollment.created.v1"
    assert loaded["correlation_id"] == "abc"
    assert str(loaded["id"]) == env.id


def test_payload_is_validated_against_the_catalogue():
    with pytest.raises(ValidationError) as err:
        make_envelope("hrd.enrollment.enrollment.created.v1", "enrollment", _created_payload(version=None))
    assert "version" in str(err.value)
    with pytest.raises(KeyError):
        make_envelope("hrd.enrollment.enrollment.teleported.v1", "enrollment", {})


def test_payloads_tolerate_fields_added_later():
    """Schemas only ever gain fields: an older consumer must accept a newer producer's payload."""
    schema = CATALOGUE["hrd.enrollment.enrollment.created.v1"]()
    assert schema.validate(_created_payload(brand_new_field={"x": 1})) == {}


def test_bad_envelope_type_is_rejected():
    env = make_envelope("hrd.enrollment.trainee.registered.v1", "enrollment",
                        {"id": 1, "employee_no": "E1", "name": "A"}).to_dict()
    env["type"] = "EnrollmentCreated"
    with pytest.raises(ValidationError):
        EnvelopeSchema().load(env)


def test_both_consumers_subscribe_to_enrollment_events():
    assert sorted(subscribers_for("hrd.enrollment.enrollment.created.v1")) == ["notification", "reporting"]
    assert subscribers_for("hrd.other.thing.happened.v1") == []
