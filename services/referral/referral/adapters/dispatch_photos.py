"""Coordination's photos of a referred dispatch (R-GRD-01), fetched over HTTP under the
referral service's own identity (:mod:`kernel.service_identity`): coordination serves them on
``GET /dispatches/{id}/photos/{photoId}`` to that identity only once the dispatch was referred
(the matrix row ``coordination.referredDispatchPhoto``)."""

from __future__ import annotations

from urllib.parse import quote

from kernel.service_identity import ServiceClient

__all__ = ["CoordinationPhotos"]


class CoordinationPhotos:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def photo(self, dispatch_id: str, photo_id: str, *, max_bytes: int) -> bytes:
        path = f"/dispatches/{quote(dispatch_id, safe='')}/photos/{quote(photo_id, safe='')}"
        return await self._client.get_bytes(path, max_bytes=max_bytes)
