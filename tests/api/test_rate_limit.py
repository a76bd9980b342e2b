"""At most ``INUK_API_RATE_PER_MINUTE`` requests a minute per token or user, then 429."""

from __future__ import annotations

import pytest

from inuk.api import ratelimit
from inuk.api.errors import ApiError
from tests.conftest import Cast


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def allowed(caller: str, clock: Clock) -> bool:
    try:
        ratelimit.hit(caller, clock=clock)
    except ApiError as error:
        assert error.code == "RATE_LIMITED"
        return False
    return True


@pytest.fixture
def limit_of_ten(settings):
    settings.INUK_API_RATE_PER_MINUTE = 10


def test_the_limit_is_reached_within_a_minute_and_the_answer_says_when_to_retry(limit_of_ten):
    clock = Clock(6000.0)  # the start of a minute
    assert all(allowed("token:a", clock) for _ in range(10))
    with pytest.raises(ApiError) as refused:
        ratelimit.hit("token:a", clock=clock)
    retry_after = int(refused.value.headers["Retry-After"])
    assert 1 <= retry_after <= 120
    clock.now += retry_after
    assert allowed("token:a", clock)


def test_a_refused_request_does_not_count(limit_of_ten):
    clock = Clock(6000.0)
    for _ in range(10):
        allowed("token:a", clock)
    assert not any(allowed("token:a", clock) for _ in range(50))
    # Half of that minute is still in the window: 10 / 2 + 1 fits, 60 / 2 + 1 would not.
    clock.now += 90
    assert allowed("token:a", clock)


def test_no_burst_of_twice_the_limit_at_the_turn_of_a_minute(limit_of_ten):
    clock = Clock(6059.0)  # the last second of a minute
    passed = sum(allowed("token:a", clock) for _ in range(10))
    clock.now = 6060.5  # just into the next
    passed += sum(allowed("token:a", clock) for _ in range(10))
    assert passed <= 11


def test_each_caller_has_its_own_count(limit_of_ten):
    clock = Clock(6000.0)
    for _ in range(10):
        allowed("token:a", clock)
    assert not allowed("token:a", clock)
    assert allowed("token:b", clock)
    assert allowed("user:1", clock)


@pytest.mark.django_db
def test_the_sixty_first_request_in_a_minute_is_429_with_retry_after(cast: Cast, api_as, settings):
    settings.INUK_API_RATE_PER_MINUTE = 60
    busy = api_as(cast.token(cast.vasby, "read"))
    statuses = [busy.get("/codes").status_code for _ in range(60)]
    assert set(statuses) == {200}
    refused = busy.get("/codes")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused["Retry-After"]) >= 1
    # Another token of the same organisation is not held back.
    assert api_as(cast.token(cast.vasby, "read")).get("/codes").status_code == 200


@pytest.mark.django_db
def test_a_logged_in_user_is_limited_too(cast: Cast, client, settings):
    settings.INUK_API_RATE_PER_MINUTE = 3
    client.force_login(cast.vasby_reporter)
    assert [client.get("/api/v1/codes").status_code for _ in range(4)] == [200, 200, 200, 429]
