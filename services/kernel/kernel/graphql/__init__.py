"""GraphQL plumbing shared by the subgraphs, one module per concern: errors and the typed
user error (:mod:`.errors`), the ``DateTime`` scalar and shared fields (:mod:`.scalars`),
standard-typed replacements of custom scalars (:mod:`.standard`), lists and cursors
(:mod:`.pages`), ``viewerCan`` (:mod:`.actions`), the request context with the verified
principal (:mod:`.context`) and live reads (:mod:`.live`). The names are re-exported here: the
subgraphs import them from ``kernel.graphql``."""

from kernel.graphql.actions import ViewerCan, action_fields, allowed_actions, viewer_can_of
from kernel.graphql.context import RequestContext
from kernel.graphql.errors import (
    ErrorCode,
    UserError,
    UserErrorCode,
    UserErrorProblem,
    graphql_error,
    guard,
    schema_extensions,
    user_error,
)
from kernel.graphql.live import follow
from kernel.graphql.pages import (
    MAX_PAGE_SIZE,
    AfterArg,
    Connection,
    Edge,
    FirstArg,
    ListOrder,
    PageInfo,
    decode_cursor,
    decode_keyset_cursor,
    encode_cursor,
    keyset_cursor,
    page_size,
    paginate,
)
from kernel.graphql.scalars import (
    CHINA,
    INPUT,
    IdArg,
    expose_enum,
    link,
    link_id,
    parse_datetime,
    schema_config,
    serialize_datetime,
)
from kernel.graphql.standard import (
    REMOVAL_DATE,
    day_input,
    iso_day,
    json_text,
    moved,
    parse_day,
    refusals_at,
    replaced_by,
)

__all__ = [
    "CHINA",
    "INPUT",
    "MAX_PAGE_SIZE",
    "REMOVAL_DATE",
    "AfterArg",
    "Connection",
    "Edge",
    "ErrorCode",
    "FirstArg",
    "IdArg",
    "ListOrder",
    "PageInfo",
    "RequestContext",
    "UserError",
    "UserErrorCode",
    "UserErrorProblem",
    "ViewerCan",
    "action_fields",
    "allowed_actions",
    "day_input",
    "decode_cursor",
    "decode_keyset_cursor",
    "encode_cursor",
    "expose_enum",
    "follow",
    "graphql_error",
    "guard",
    "iso_day",
    "json_text",
    "keyset_cursor",
    "link",
    "link_id",
    "moved",
    "page_size",
    "paginate",
    "parse_datetime",
    "parse_day",
    "refusals_at",
    "replaced_by",
    "schema_config",
    "schema_extensions",
    "serialize_datetime",
    "user_error",
    "viewer_can_of",
]
