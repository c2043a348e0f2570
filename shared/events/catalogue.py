"""The event catalogue: every event type, its payload schema, and who subscribes.

Consumers are Celery tasks named ``<service>.consume_events`` on the ``<service>.events`` queue; the
relay sends them batches of envelopes. Subscriptions are by type prefix so a new event type reaches
existing consumers, which ignore types they do not handle (but still record them as processed).
"""
from __future__ import annotations

from marshmallow import Schema

from shared.events import enrollment as e

CATALOGUE: dict[str, type[Schema]] = {
    "hrd.enrollment.course.created.v1": e.CourseSnapshotV1,
    "hrd.enrollment.course.updated.v1": e.CourseSnapshotV1,
    "hrd.enrollment.session.created.v1": e.SessionSnapshotV1,
    "hrd.enrollment.session.updated.v1": e.SessionSnapshotV1,
    "hrd.enrollment.session.rescheduled.v1": e.SessionSnapshotV1,
    "hrd.enrollment.session.cancelled.v1": e.SessionSnapshotV1,
    "hrd.enrollment.trainee.registered.v1": e.TraineeSnapshotV1,
    "hrd.enrollment.trainee.updated.v1": e.TraineeSnapshotV1,
    "hrd.enrollment.completion.recorded.v1": e.CompletionRecordedV1,
    "hrd.enrollment.plan.imported.v1": e.PlanImportedV1,
    "hrd.enrollment.enrollment.created.v1": e.EnrollmentEventV1,
    **{f"hrd.enrollment.enrollment.{status}.v1": e.EnrollmentEventV1
       for status in e.ENROLLMENT_STATUSES if status != "requested"},
    # A waitlisted enrollment that got a seat (confirmed by promotion, not on first request).
    "hrd.enrollment.enrollment.promoted.v1": e.EnrollmentEventV1,
    "hrd.enrollment.survey.submitted.v1": e.SurveySubmittedV1,
    "hrd.enrollment.counts.snapshot.v1": e.CountsSnapshotV1,
    "hrd.enrollment.bulk_job.finished.v1": e.BulkJobFinishedV1,
}

#: subscriber service -> event type prefixes it receives
SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "notification": ("hrd.enrollment.",),
    "reporting": ("hrd.enrollment.",),
}


def payload_schema(event_type: str) -> type[Schema]:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}: add it to shared/events/catalogue.py") from None


def all_subscribers() -> list[str]:
    """Every service that consumes some event type."""
    return sorted(SUBSCRIBERS)


def subscribers_for(event_type: str) -> list[str]:
    return [svc for svc, prefixes in SUBSCRIBERS.items() if event_type.startswith(prefixes)]


def consumer_task_name(service: str) -> str:
    return f"{service}.consume_events"


def consumer_queue(service: str) -> str:
    return f"{service}.events"
