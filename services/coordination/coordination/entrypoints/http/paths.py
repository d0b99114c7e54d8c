"""Paths of the coordination service's PDF download routes (see ``letters.py``); the graph
gives them as ``...Url`` fields, relative to the service (files bypass the gateway)."""

from __future__ import annotations

from urllib.parse import quote


def request_letter_path(request_id: str) -> str:
    return f"/assistance/{quote(request_id)}/request-letter.pdf"


def reply_letter_path(request_id: str) -> str:
    return f"/assistance/{quote(request_id)}/reply-letter.pdf"


def minutes_path(meeting_id: str) -> str:
    return f"/meetings/{quote(meeting_id)}/minutes.pdf"
