"""Photos of grid dispatch (R-GRD-01: photos as materials), the photo half of the dispatch
handlers (``coordination.application.dispatch``).

A photo is a file in the service's file store (GridFS); its id is the store's id. Its
metadata names who uploaded it and the dispatch it was uploaded for (None: a report not yet
filed); a report or a result names only photos uploaded that way. The referral service reads
a report's photos once the dispatch was referred (its source material).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import _AggregateSteps
from coordination.contracts.dispatch import ReferredPhotoV1
from coordination.domain import dispatch as dsp
from coordination.domain.cooperation import Actor
from coordination.policy import policy_of
from kernel.auth import is_service
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.errors import NotFound, ValidationFailed
from kernel.store import FileMissingError, FileStore, FileTooLargeError, StoredFile

__all__ = ["DispatchPhotos", "UploadDispatchPhoto"]


@dataclass(frozen=True)
class UploadDispatchPhoto:
    """A photo's content (R-GRD-01): for the report about to be filed (``dispatch_id``
    None: the reporter's own) or for a dispatch (its reporter, platform or teams)."""

    dispatch_id: str | None
    name: str
    media_type: str
    content: AsyncIterator[bytes]


class DispatchPhotos(_AggregateSteps[dsp.Dispatch]):
    """The photo steps of the dispatch handlers: upload, check, read."""

    files: FileStore

    @property
    def max_photo_bytes(self) -> int:
        return policy_of(self.policy).dispatch.photos.max_bytes

    async def check_photo_upload(self, dispatch_id: str | None, caller: Caller) -> None:
        """Whether the caller may upload a photo here, before any content is read."""
        actor = acting(caller)
        if dispatch_id is None:
            access.authorize_on(
                actor, "reportProblem", {Relation.SENDER} | access.oversight_relations(actor)
            )
        else:
            await self._authorized(dispatch_id, actor, "uploadDispatchPhoto")

    async def upload_photo(self, cmd: UploadDispatchPhoto, caller: Caller) -> StoredFile:
        """Store a photo; a refusal (type, size, empty) stores nothing."""
        await self.check_photo_upload(cmd.dispatch_id, caller)
        actor = acting(caller)
        limits = policy_of(self.policy).dispatch.photos
        media = cmd.media_type.split(";")[0].strip().lower()
        if media not in limits.media_types:
            raise ValidationFailed(
                f"media type {media!r} is not accepted for a photo; one of: "
                + ", ".join(limits.media_types),
                field="mediaType",
                code="MEDIA_TYPE_NOT_ACCEPTED",
            )
        try:
            stored = await self.files.put(
                cmd.content,
                filename=cmd.name.strip() or "photo",
                media_type=media,
                metadata={
                    "dispatch_photo": True,
                    "dispatch_id": cmd.dispatch_id,
                    "uploaded_by": actor.person_id,
                    "agency_id": actor.agency_id,
                },
                max_size=limits.max_bytes,
            )
        except FileTooLargeError:
            raise ValidationFailed(
                f"the file is larger than the limit of {limits.max_bytes} bytes",
                field="file",
                code="FILE_TOO_LARGE",
            ) from None
        if stored.size == 0:
            await self.files.delete(stored.id)
            raise ValidationFailed("the file is empty", field="file", code="FILE_EMPTY")
        return stored

    async def _uploaded(
        self, photo_ids: tuple[str, ...], field: str, *, dispatch_id: str | None, actor: Actor
    ) -> None:
        """Every photo named was uploaded here: for this dispatch, or (a new report) by this
        reporter for no dispatch yet."""
        for i, photo_id in enumerate(photo_ids):
            try:
                meta = (await self.files.info(photo_id.strip())).metadata
            except FileMissingError:
                meta = {}
            ok = meta.get("dispatch_photo") is True and meta.get("dispatch_id") == dispatch_id
            if ok and dispatch_id is None:
                ok = meta.get("uploaded_by") == actor.person_id
            if not ok:
                where = "for this dispatch" if dispatch_id else "by you for a new report"
                raise ValidationFailed(
                    f"photo {photo_id!r} was not uploaded {where}; upload it first",
                    field=f"{field}.{i}",
                    code="PHOTO_NOT_UPLOADED",
                )

    async def photo(
        self, dispatch_id: str, photo_id: str, caller: Caller
    ) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """A photo of the dispatch (its report's, its result's or one uploaded for it) for
        whoever may read the dispatch; for the referral service's identity, only a report
        photo of a dispatch that was referred (its source material, R-GRD-01)."""
        if is_service(caller.principal, "referral"):
            return await self._referred_photo(dispatch_id, photo_id, caller)
        d = await self._authorized(dispatch_id, acting(caller), "dispatch")
        named = photo_id in d.report.photo_ids or photo_id in d.result_photo_ids
        try:
            info = await self.files.info(photo_id)
        except FileMissingError:
            raise NotFound(f"dispatch {dispatch_id!r} has no photo {photo_id!r}") from None
        if not (named or info.metadata.get("dispatch_id") == dispatch_id):
            raise NotFound(f"dispatch {dispatch_id!r} has no photo {photo_id!r}")
        return await self.files.open(photo_id)

    async def _referred_photo(
        self, dispatch_id: str, photo_id: str, caller: Caller
    ) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The referral service holds a relation to a dispatch only once it was referred (the
        token is of this district: the route's verifier checked it)."""
        d = await self._load(dispatch_id)
        referred = d.state is dsp.DispatchState.REFERRED
        access.authorize_on(
            acting(caller),
            "referredDispatchPhoto",
            {Relation.PARTY} if referred else {Relation.NONE},
        )
        if photo_id not in d.report.photo_ids:
            raise NotFound(f"dispatch {dispatch_id!r} has no report photo {photo_id!r}")
        try:
            return await self.files.open(photo_id)
        except FileMissingError:
            raise NotFound(f"dispatch {dispatch_id!r} has no photo {photo_id!r}") from None

    async def _referred_photos(self, d: dsp.Dispatch) -> list[ReferredPhotoV1]:
        """The report's photos with digest and size, for the referral service to verify."""
        photos = []
        for photo_id in d.report.photo_ids:
            info = await self.files.info(photo_id)
            photos.append(
                ReferredPhotoV1(
                    id=photo_id,
                    name=info.filename,
                    media_type=info.media_type,
                    size=info.size,
                    sha256=info.sha256,
                )
            )
        return photos
