"""SMS through an HTTP provider: POST JSON {to, body, type, id} per message on a reused session.

Response mapping: 2xx sent (provider id taken from the JSON body's "id"/"message_id" if any);
408/409/423/425/429 and 5xx transient; other 4xx permanent (bad number, rejected content, bad key);
connect errors/timeouts transient. A *read* timeout happens after the provider got the request, so
it is flagged maybe_delivered; we always send our delivery key as "id" so a provider that
de-duplicates on it (and our sink, which counts duplicates) can absorb a retry.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from ..domain.delivery import DeliveryResult, DeliveryStatus, OutboundMessage
from ..domain.kinds import ChannelType
from ..domain.phone import normalize_kr_mobile
from ..domain.retry import classify_http_status
from ..domain.sms_length import fit_sms


@dataclass(frozen=True)
class SmsConfig:
    url: str = "http://127.0.0.1:8026/v1/messages"
    api_key: str = "dev-sms-key"
    api_key_header: str = "X-API-Key"
    sender: str | None = None  # registered caller number (발신번호); sent as "from" when set
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    pool_size: int = 4


class HttpSmsChannel:
    channel_type = ChannelType.SMS

    def __init__(self, config: SmsConfig, session: requests.Session | None = None):
        self.config = config
        self._session = session or requests.Session()
        self._session.mount(config.url, HTTPAdapter(pool_connections=1, pool_maxsize=config.pool_size))
        self._session.headers.update({config.api_key_header: config.api_key, "Accept": "application/json"})

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[DeliveryResult]:
        # Sequential on one keep-alive connection: SMS volume is a fraction of e-mail volume.
        return [self._send_one(m) for m in messages]

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpSmsChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send_one(self, message: OutboundMessage) -> DeliveryResult:
        to = normalize_kr_mobile(message.to)
        if to is None:
            return DeliveryResult.permanent(message.id, f"not a Korean mobile number: {message.to!r}")
        body = fit_sms(message.body)  # defensive: the renderer already fits, raw callers may not
        payload = {"id": message.id, "to": to, "body": body.text, "type": message.sms_type or body.sms_type}
        if body.sms_type == "LMS":
            payload["type"] = "LMS"  # a body over 90 bytes can never go as SMS, whatever the caller said
        if self.config.sender:
            payload["from"] = self.config.sender
        try:
            response = self._session.post(
                self.config.url, json=payload, timeout=(self.config.connect_timeout, self.config.read_timeout)
            )
        except requests.ConnectTimeout as exc:
            return DeliveryResult.transient(message.id, f"connect timeout: {exc}")
        except requests.ReadTimeout as exc:
            return DeliveryResult.transient(message.id, f"read timeout, outcome unknown: {exc}", maybe_delivered=True)
        except requests.RequestException as exc:
            return DeliveryResult.transient(message.id, f"{type(exc).__name__}: {exc}")
        status = classify_http_status(response.status_code)
        if status is DeliveryStatus.SENT:
            return DeliveryResult.sent(message.id, code=response.status_code, provider_id=_provider_id(response))
        detail = f"HTTP {response.status_code}: {response.text[:200]}"
        if status is DeliveryStatus.PERMANENT_FAILURE:
            return DeliveryResult.permanent(message.id, detail, code=response.status_code)
        return DeliveryResult.transient(message.id, detail, code=response.status_code)


def _provider_id(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("id") or data.get("message_id")
        return str(value) if value is not None else None
    return None
