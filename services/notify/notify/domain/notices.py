"""The notification matrix (R-NTF-04): which published event addresses which agency, as
what kind of notice, with which receipt. Pure Python.

Every request, letter, decision or ruling addressed to an agency is a notice in that
agency's inbox with a receipt (签收): nobody learns of work addressed to them from a
reminder. The matrix is data, in one place; notify builds inbox items from it, and
``docs/notifications.md`` is generated from it (``python -m notify.domain.notices``). A test
walks the AsyncAPI catalogue: every published event type has rows here or a reason why it
addresses nobody.

A row names the payload fields that hold the addressees (an agency id or a list of them;
dotted for nested fields, e.g. ``step.decided_by_agency_id``). The acting agency itself is
never told of its own act. The item's due time is the earliest open clock the event carries
for that addressee (the clock it must meet), so the notice says by when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from notify.domain.model import InboxItem, item_id

# The rows, as data (re-exported: the matrix is read through this module).
from notify.domain.notice_rows import DEDICATED, MATRIX, NO_NOTICE, NoticeRow

CHINA = ZoneInfo("Asia/Shanghai")

__all__ = [
    "DEDICATED",
    "GENERIC_EVENT_TYPES",
    "MATRIX",
    "NO_NOTICE",
    "NoticeRow",
    "addressees",
    "agency_fields",
    "build_items",
    "due_for",
    "field",
    "render",
    "render_markdown",
    "rows_for",
    "with_generated_matrix",
]


def rows_for(event_type: str) -> list[NoticeRow]:
    return [r for r in MATRIX if r.event_type == event_type]


GENERIC_EVENT_TYPES: tuple[str, ...] = tuple(
    dict.fromkeys(r.event_type for r in MATRIX if r.built_by != DEDICATED)
)


def field(data: Mapping[str, Any], path: str) -> Any:
    """The payload's value at a dotted path (None where absent)."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def addressees(row: NoticeRow, data: Mapping[str, Any]) -> list[str]:
    """The agencies ``row`` addresses in this event, without the actor's own agency."""
    found: list[str] = []
    for path in row.to:
        value = field(data, path)
        ids = value if isinstance(value, list) else [value]
        found += [i for i in ids if isinstance(i, str) and i]
    actor = data.get("actor_agency_id")
    return [a for a in dict.fromkeys(found) if a != actor]


_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")


def agency_fields(row: NoticeRow) -> set[str]:
    """The payload fields whose agency names the row's text shows."""
    return {
        m.group(1).removesuffix("_name")
        for text in (row.title, row.body)
        for m in _PLACEHOLDER.finditer(text)
        if m.group(1).endswith("_name")
    }


def render(text: str, data: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """``text`` with ``{field}`` from the payload and ``{field_name}`` an agency's name."""

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.endswith("_name"):
            agency = field(data, key.removesuffix("_name"))
            return names.get(agency, str(agency or "")) if isinstance(agency, str) else ""
        value = field(data, key)
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(one, text).strip()


def due_for(agency_id: str, deadlines: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The earliest open clock this event carries for ``agency_id`` (the one it must meet)."""
    dues = [
        datetime.fromisoformat(d["due"]) if isinstance(d["due"], str) else d["due"]
        for d in deadlines
        if d.get("responsible_agency_id") == agency_id and d.get("state", "open") == "open"
    ]
    return min(dues) if dues else None


def build_items(
    row: NoticeRow,
    *,
    event_id: str,
    at: datetime,
    data: Mapping[str, Any],
    names: Mapping[str, str],
) -> list[InboxItem]:
    """The inbox items ``row`` makes of one event: one per addressee, its id derived from the
    event and the addressee (a redelivered event collides instead of duplicating)."""
    urgent = bool(data.get("urgent", False))
    prefix = "【紧急】" if urgent else ""
    subject = field(data, row.subject_field)
    # A row about any kind of subject names the payload's field holding its type.
    subject_type = render(row.subject_type, data, names) if "{" in row.subject_type else None
    title = prefix + render(row.title, data, names)
    body = render(row.body, data, names)
    items = []
    for agency in addressees(row, data):
        due = due_for(agency, data.get("deadlines") or [])
        when = f"请于{due.astimezone(CHINA).strftime('%Y年%m月%d日 %H:%M')}前办理。" if due else ""
        # A sentence of its own after the text (which may end without a full stop).
        stop = "。" if when and body and not body.endswith(("。", "！", "？")) else ""
        items.append(
            InboxItem(
                id=item_id(event_id, agency),
                agency_id=agency,
                kind=row.kind,
                title=title,
                body=(body + stop + when).strip(),
                subject_type=subject_type or row.subject_type,
                subject_id=str(subject or ""),
                source_event_id=event_id,
                created_at=at,
                due_at=due,
                urgent=urgent,
                audience=row.audience,
                receipt_required=row.receipt,
            )
        )
    return items


# -- the document ------------------------------------------------------------------------

BEGIN_MARK = "<!-- BEGIN GENERATED NOTIFICATION MATRIX -->"
END_MARK = "<!-- END GENERATED NOTIFICATION MATRIX -->"


def render_markdown() -> str:
    lines = [
        f"{len(MATRIX)} rows over {len({r.event_type for r in MATRIX})} event types; "
        f"{len(NO_NOTICE)} event types address no agency.",
        "",
        "| event | rule | addressed (payload field) | notice kind | receipt | title |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in MATRIX:
        to = ", ".join(f"`{t}`" for t in r.to) + (" (leader)" if r.audience == "leader" else "")
        receipt = "yes" if r.receipt else "no (information)"
        how = f" — {r.note}" if r.note else ""
        lines.append(
            f"| `{r.event_type}` | {r.rule} | {to} | `{r.kind}` | {receipt} | {r.title}{how} |"
        )
    lines += ["", "Events that address no agency:", "", "| event | why |", "| --- | --- |"]
    lines += [f"| `{e}` | {why} |" for e, why in sorted(NO_NOTICE.items())]
    return "\n".join(lines) + "\n"


def with_generated_matrix(document: str) -> str:
    head, _, rest = document.partition(BEGIN_MARK)
    _, _, tail = rest.partition(END_MARK)
    return f"{head}{BEGIN_MARK}\n\n{render_markdown()}\n{END_MARK}{tail}"


if __name__ == "__main__":
    # Regenerate the matrix inside docs/notifications.md: python -m notify.domain.notices
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/notifications.md")
    target.write_text(with_generated_matrix(target.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target}")
