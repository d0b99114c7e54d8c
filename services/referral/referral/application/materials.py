"""Materials and the transfer letter (移送函, R-REF-02): records, uploaded contents,
the generated letter and downloads for those who may read them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from kernel.calendar import SHANGHAI
from kernel.caller import Caller
from kernel.errors import NotFound, ValidationFailed
from kernel.store import FileDigestMismatchError, FileMissingError, FileTooLargeError, StoredFile
from referral.application.access import authorize_referral
from referral.application.commands import (
    AddMaterial,
    GenerateTransferLetter,
    RemoveMaterial,
    UploadMaterial,
)
from referral.application.letter import letter_number
from referral.application.runner import Runner, actor_of
from referral.contracts.published import ReferralMaterialChangedV1
from referral.domain.model import ALLOWED_MEDIA_TYPES, Material, MaterialKind, Referral

#: A material, its stored file and the content's chunks.
Download = tuple[Material, StoredFile, AsyncIterator[bytes]]

_KINDS = "kind must be transfer_letter, source or evidence"


def _material_fields(m: Material) -> dict[str, object]:
    return {
        "material_id": m.id,
        "kind": m.kind.value,
        "name": m.name,
        "media_type": m.media_type,
        "size": m.size,
        "sha256": m.sha256,
    }


class MaterialHandlers:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ports = run.ports

    @property
    def max_material_bytes(self) -> int:
        return self.ports.max_material_bytes

    async def add(
        self, cmd: AddMaterial, caller: Caller, *, file_id: str | None = None
    ) -> Referral:
        """Record a material; ``file_id`` links content already stored (an upload)."""
        principal = caller.principal
        referral = await self.run.load_for("addReferralMaterial", cmd.referral_id, principal)
        try:
            kind = MaterialKind(cmd.kind)
        except ValueError:
            raise ValidationFailed(_KINDS, field="kind", code="UNKNOWN_VALUE") from None
        now = self.run.now()
        m = Material(
            str(uuid.uuid4()),
            kind,
            cmd.name.strip(),
            cmd.media_type.strip().lower(),
            cmd.size,
            cmd.sha256.strip().lower(),
            principal.person_id,
            now,
            file_id,
        )
        actor = actor_of(principal)
        moved = referral.add_material(m, actor)
        payload = ReferralMaterialChangedV1(
            **self.run.change(referral, moved, actor, now),
            **_material_fields(m),
            has_content=file_id is not None,
        )
        return await self.run.commit(moved, [payload], caller.correlation_id)

    async def check_upload(self, referral_id: str, caller: Caller) -> None:
        """Whether the caller may add materials to this referral now (the matrix: the
        sender's acting staff; the domain: a draft), before any content is read."""
        principal = caller.principal
        referral = await self.run.load_for("addReferralMaterial", referral_id, principal)
        referral.check_may_add_material(actor_of(principal))

    async def upload(self, cmd: UploadMaterial, caller: Caller) -> tuple[Referral, Material]:
        """Store an attachment's content and record it; a refusal stores nothing.

        Everything that can be checked before the bytes arrive is checked first (state,
        sender staff, kind, media type, digest format); size and digest while streaming.
        """
        principal = caller.principal
        referral = await self.run.load_for("addReferralMaterial", cmd.referral_id, principal)
        referral.check_may_add_material(actor_of(principal))
        if cmd.kind not in {k.value for k in MaterialKind}:
            raise ValidationFailed(_KINDS, field="kind", code="UNKNOWN_VALUE")
        media = cmd.media_type.split(";")[0].strip().lower()
        if media not in ALLOWED_MEDIA_TYPES:
            raise ValidationFailed(
                f"media type {media!r} is not accepted; one of: "
                + ", ".join(sorted(ALLOWED_MEDIA_TYPES)),
                field="mediaType",
                code="UNKNOWN_VALUE",
            )
        if not cmd.name.strip():
            raise ValidationFailed("a material needs a name", field="name", code="REQUIRED")
        declared = cmd.declared_sha256.strip().lower() if cmd.declared_sha256 else None
        if declared is not None and (
            len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared)
        ):
            raise ValidationFailed(
                "sha256 must be 64 hexadecimal digits", field="sha256", code="BAD_FORMAT"
            )
        limit = self.max_material_bytes
        try:
            stored = await self.ports.files.put(
                cmd.content,
                filename=cmd.name.strip(),
                media_type=media,
                metadata={"referral_id": cmd.referral_id, "kind": cmd.kind},
                max_size=limit,
                expected_sha256=declared,
            )
        except FileTooLargeError:
            raise ValidationFailed(
                f"the file is larger than the limit of {limit} bytes",
                field="file",
                code="OUT_OF_RANGE",
            ) from None
        except FileDigestMismatchError as exc:
            raise ValidationFailed(
                f"the uploaded content has SHA-256 {exc.actual}, not the declared {exc.declared}",
                field="sha256",
            ) from None
        if stored.size == 0:
            await self.ports.files.delete(stored.id)
            raise ValidationFailed("the file is empty", field="file", code="OUT_OF_RANGE")
        return await self._record_stored(cmd.referral_id, cmd.kind, stored, caller)

    async def _record_stored(
        self, referral_id: str, kind: str, stored: StoredFile, caller: Caller
    ) -> tuple[Referral, Material]:
        cmd = AddMaterial(
            referral_id, kind, stored.filename, stored.media_type, stored.size, stored.sha256
        )
        try:
            moved = await self.add(cmd, caller, file_id=stored.id)
        except BaseException:
            # The record was refused (or lost a race): the content must not linger unowned.
            await self.ports.files.delete(stored.id)
            raise
        return moved, moved.materials[-1]

    async def generate_transfer_letter(
        self, cmd: GenerateTransferLetter, caller: Caller
    ) -> tuple[Referral, Material]:
        """Render the 移送函 from the draft and attach it as its transfer_letter material.

        Its SHA-256 is what an electronic signature at sending covers (R-REF-12).
        """
        principal = caller.principal
        referral = await self.run.load_for("generateTransferLetter", cmd.referral_id, principal)
        referral.check_may_add_material(actor_of(principal))
        now = self.run.now()
        # The 文号 is drawn when the letter is issued at sending (issuing.py).
        code = await self.run.document_code(referral.sender_id)
        number = letter_number(code, now.astimezone(SHANGHAI).year, None)
        stored = await self.run.store_letter(referral, number, now)
        return await self._record_stored(
            cmd.referral_id, MaterialKind.TRANSFER_LETTER.value, stored, caller
        )

    async def remove(self, cmd: RemoveMaterial, caller: Caller) -> Referral:
        principal = caller.principal
        referral = await self.run.load_for("removeReferralMaterial", cmd.referral_id, principal)
        now = self.run.now()
        actor = actor_of(principal)
        moved = referral.remove_material(cmd.material_id, actor, now)
        m = next(x for x in referral.materials if x.id == cmd.material_id)
        payload = ReferralMaterialChangedV1(
            **self.run.change(referral, moved, actor, now), **_material_fields(m), removed=True
        )
        saved = await self.run.commit(moved, [payload], caller.correlation_id)
        if m.file_id is not None:
            # Only after the record is gone: a failed removal keeps the content reachable.
            await self.ports.files.delete(m.file_id)
        return saved

    # -- downloads ------------------------------------------------------------------------

    async def content(self, referral_id: str, material_id: str, caller: Caller) -> Download:
        """A material's content for a party or a supervisor (others: Forbidden)."""
        referral = await self._readable(referral_id, caller)
        material = next((m for m in referral.materials if m.id == material_id), None)
        if material is None:
            raise NotFound(
                f"referral {referral_id!r} has no material {material_id!r}", field="materialId"
            )
        return await self._open(material)

    async def letter(self, referral_id: str, caller: Caller) -> Download:
        """The latest stored transfer letter (generated or uploaded)."""
        referral = await self._readable(referral_id, caller)
        letter = referral.latest_letter_file()
        if letter is None:
            raise NotFound(
                f"referral {referral_id!r} has no stored transfer letter yet: generate it "
                "(generateTransferLetter) or upload one of kind transfer_letter",
                field="letter",
            )
        return await self._open(letter)

    async def letter_signature(self, referral_id: str, caller: Caller) -> Referral:
        """The referral, for reading its letter's signature (same readers as the letter)."""
        return await self._readable(referral_id, caller)

    async def _readable(self, referral_id: str, caller: Caller) -> Referral:
        referral = await self.run.load(referral_id)
        authorize_referral(caller.principal, "Referral.materialContent", referral)
        return referral

    async def _open(self, material: Material) -> Download:
        if material.file_id is None:
            raise NotFound(
                f"material {material.id!r} is a record only; its content was never uploaded",
                field="materialId",
            )
        try:
            info, chunks = await self.ports.files.open(material.file_id)
        except FileMissingError:
            raise NotFound(
                f"the content of material {material.id!r} is gone", field="materialId"
            ) from None
        return material, info, chunks
