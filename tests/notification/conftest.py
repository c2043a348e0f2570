import pytest

from services.notification.adapters.sms_sink import SmsSink
from services.notification.adapters.smtp_sink import SmtpSink
from tests.conftest import JWT_SECRET
from tests.notification.harness import Harness


@pytest.fixture(scope="module")
def notification_app(apps, db_urls, redis_url):
    """A notification app of its own (same database as the suite's) that never starts dispatch tasks."""
    from services.notification.app import create_app
    return create_app({"DATABASE_URL": db_urls["notification"], "REDIS_URL": redis_url, "JWT_SECRET": JWT_SECRET,
                       "TESTING": True, "DISPATCH_ON_COMMIT": False, "SMS_QUIET_HOURS": "off",
                       "RETRY_BASE_SECONDS": 1, "RETRY_MAX_DELAY_SECONDS": 2, "RETRY_MAX_ATTEMPTS": 3,
                       "CLAIM_LEASE_SECONDS": 60})


@pytest.fixture
def nt(clean, notification_app, redis_url):
    with SmtpSink(reject=lambda a: a.endswith("@bounce.invalid")) as smtp, SmsSink() as sms:
        h = Harness(notification_app, smtp, sms, redis_url)
        try:
            yield h
        finally:
            h.close()
