"""kernel.bus.topic_matches: AMQP topic semantics (``*`` one word, ``#`` zero or more)."""

from __future__ import annotations

import pytest

from kernel.bus import topic_matches

KEY = "fuyuan.referral.referral.sent.v1"


@pytest.mark.parametrize(
    ("pattern", "routing_key", "expected"),
    [
        # literal
        (KEY, KEY, True),
        ("fuyuan.referral.referral.sent.v2", KEY, False),
        ("fuyuan.referral", KEY, False),
        (KEY + ".extra", KEY, False),
        # '#' alone and at either end
        ("#", KEY, True),
        ("#", "a", True),
        ("fuyuan.#", KEY, True),
        ("fuyuan.#", "fuyuan", True),  # '#' matches zero words
        ("fuyuan.#", "qingfeng.referral.referral.sent.v1", False),
        ("fuyuan.#", "fuyuanx.referral.x", False),  # words, not prefixes
        ("#.v1", KEY, True),
        ("#.v2", KEY, False),
        # '*' exactly one word
        ("*.referral.#", KEY, True),
        ("*.referral.#", "qingfeng.referral.case.closed.v1", True),
        ("*.referral.#", "fuyuan.notify.notice.read.v1", False),
        ("*.referral.#", "referral.case.closed.v1", False),
        ("*.*.referral.sent.v1", KEY, True),
        ("*.referral.referral.sent.v1", KEY, True),
        ("*", "fuyuan", True),
        ("*", KEY, False),
        ("*", "", True),  # an empty key is one empty word, as on RabbitMQ
        ("fuyuan.*", "fuyuan.referral.x", False),
        ("fuyuan.*", "fuyuan", False),
        # '#' in the middle, zero or several words
        ("fuyuan.#.v1", KEY, True),
        ("fuyuan.#.v1", "fuyuan.v1", True),
        ("fuyuan.#.v1", "fuyuan.referral.referral.sent.v2", False),
        ("fuyuan.#.sent.#", KEY, True),
        ("#.referral.#", KEY, True),
        ("#.notify.#", KEY, False),
        # '#' and '*' together
        ("#.*", KEY, True),
        ("#.*", "", True),
        ("*.#.*", "a", False),
        ("*.#.*", "a.b", True),
        ("*.#.*", KEY, True),
        ("#.#", KEY, True),
        ("#.*.*.*.*.*", KEY, True),
        ("#.*.*.*.*.*.*", KEY, False),
    ],
)
def test_topic_matches(pattern: str, routing_key: str, expected: bool) -> None:
    assert topic_matches(pattern, routing_key) is expected


def test_several_hashes_over_a_long_key() -> None:
    key = ".".join(["w"] * 20)
    assert topic_matches("#.#.#.#.#.x", key) is False
    assert topic_matches("#.#.#.#.#.w", key) is True
