"""The transfer letter issued at sending (R-REF-02, R-REF-12): its materials checked as stored
content, its 文号 drawn from the sending agency's sequence for the year, the letter numbered
(when the service generated it) and signed by the sending agency over its stored bytes; and
the check anyone can make of that signature.

Why the number is drawn at sending and not when the draft's letter is generated: a number
drawn for a draft that is withdrawn or regenerated would be a gap in the agency's register
(发文登记). The draft letter the leader approves carries a blank number (抚市监〔2026〕  号);
at sending the service lays the same letter out again with the number and the date of issue
(the office's 编号 and 印发), stores it as the issued letter and signs it. A letter the
sender uploaded instead (its own PDF) is signed as it is; its number is recorded with the
referral and the signature.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from kernel.auth import Principal
from kernel.calendar import SHANGHAI
from kernel.errors import NotFound, ValidationFailed
from kernel.signing import ALGORITHM, PublicKey, SigningKeyError, Verification, verify_digest
from kernel.signing import load_public_key as _public
from kernel.store import FileMissingError, StoreError
from referral.application.letter import letter_number
from referral.application.runner import Runner
from referral.domain.errors import MaterialContentMissing, SigningKeyMissing
from referral.domain.model import Material, MaterialKind, Referral, Signature

__all__ = ["Issued", "LetterIssuer"]


@dataclass(frozen=True)
class Issued:
    """What sending adds: the number, the issued letter (None: the uploaded one stands), the
    signature, and the stored file to remove if the send is not committed."""

    number: str
    letter: Material | None
    signature: Signature
    orphan_file_id: str | None


class LetterIssuer:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ports = run.ports

    async def check_stored(self, referral: Referral) -> None:
        """R-REF-02: every material's content is in the store, as the store hashed it when it
        was written (a declared hash with no file, or a file gone since, is refused)."""
        referral.check_complete()  # the records: letter, a source, each with a file id
        for m in referral.materials:
            assert m.file_id is not None  # check_complete
            try:
                info = await self.ports.files.info(m.file_id)
            except FileMissingError:
                raise MaterialContentMissing(
                    f"the content of material {m.name!r} is gone from the store (R-REF-02)",
                    field="materials",
                ) from None
            if info.sha256 != m.sha256 or info.size != m.size:
                raise MaterialContentMissing(
                    f"the stored content of material {m.name!r} is not the one recorded "
                    f"(SHA-256 {info.sha256}, recorded {m.sha256}) (R-REF-02)",
                    field="materials",
                )
        # The letter is read back whole (it is small and about to be signed): its bytes, not
        # the store's record of them, must still be what was hashed when it was stored.
        letter = referral.latest_letter_file()
        assert letter is not None and letter.file_id is not None
        try:
            digest = await self._stored_sha256(letter.file_id)
        except (StoreError, OSError):  # FileMissingError, or a record without its content
            digest = ""
        if digest != letter.sha256:
            raise MaterialContentMissing(
                f"the stored transfer letter {letter.name!r} is gone or has changed since it "
                "was stored (R-REF-02)",
                field="materials",
            )

    def public_key(self, agency_id: str) -> PublicKey:
        try:
            return self.ports.signing.public_key(agency_id)
        except SigningKeyError as exc:
            raise SigningKeyMissing(str(exc), field="senderId") from None

    async def public_keys(self, agency_ids: list[str]) -> list[PublicKey]:
        """The public keys of ``agency_ids`` (registered agencies only; in development their
        keys are made on first use), or of every agency with a key when none is named."""
        if len(agency_ids) > 200:
            raise ValidationFailed(
                "ask for at most 200 agencies", field="agencyIds", code="OUT_OF_RANGE"
            )
        ids = agency_ids or self.ports.signing.holders()
        keys: list[PublicKey] = []
        for agency_id in dict.fromkeys(ids):
            if await self.run.agency(agency_id) is None:
                continue
            try:
                keys.append(self.ports.signing.public_key(agency_id))
            except SigningKeyError:
                continue
        return keys

    async def issue(self, referral: Referral, principal: Principal) -> Issued:
        """Number, lay out (a generated letter), store and sign the letter of ``referral``.
        Call after every other check of the send: a drawn number is the referral's for good
        (a retried send gets the same one)."""
        now = self.run.now()
        draft = referral.latest_letter_file()
        assert draft is not None and draft.file_id is not None  # check_stored
        self.public_key(referral.sender_id)  # no key, no number drawn
        year = now.astimezone(SHANGHAI).year
        n = await self.ports.letters.number_for(referral.sender_id, year, referral.id, now)
        number = letter_number(await self.run.document_code(referral.sender_id), year, n)
        info = await self.ports.files.info(draft.file_id)
        issued: Material | None = None
        if info.metadata.get("generated"):
            stored = await self.run.store_letter(referral, number, now, letter_number=number)
            issued = Material(
                str(uuid.uuid4()),
                MaterialKind.TRANSFER_LETTER,
                f"移送函（{number}）.pdf",
                "application/pdf",
                stored.size,
                stored.sha256,
                principal.person_id,
                now,
                stored.id,
            )
        letter = issued or draft
        assert letter.file_id is not None
        try:
            # Signed over the bytes as stored now, hashed again (not the recorded hash).
            digest = await self._stored_sha256(letter.file_id)
            key_id, value = self.ports.signing.sign_digest(referral.sender_id, digest)
        except BaseException:
            if issued is not None:
                await self.ports.files.delete(letter.file_id)
            raise
        signature = Signature(
            principal.person_id,
            principal.person_name,
            now,
            digest,
            agency_id=referral.sender_id,
            algorithm=ALGORITHM,
            key_id=key_id,
            value=value,
            letter_number=number,
            material_id=letter.id,
        )
        return Issued(number, issued, signature, issued.file_id if issued else None)

    async def _stored_sha256(self, file_id: str) -> str:
        _, chunks = await self.ports.files.open(file_id)
        digest = hashlib.sha256()
        async for chunk in chunks:
            digest.update(chunk)
        return digest.hexdigest()

    async def verify(self, referral: Referral) -> Verification:
        """R-REF-12: whether the stored letter is the one the sending agency signed: its bytes
        hashed again, the signature checked with the agency's public key."""
        sig = referral.signature
        if sig is None or not sig.value:
            return Verification(False, "the letter was not signed")
        letter = next((m for m in referral.materials if m.id == sig.material_id), None)
        if letter is None or letter.file_id is None:
            return Verification(False, "the signed letter is not stored")
        try:
            digest = await self._stored_sha256(letter.file_id)
        except FileMissingError:
            return Verification(False, "the signed letter's content is gone from the store")
        if digest != sig.letter_sha256:
            return Verification(
                False,
                f"the stored letter has SHA-256 {digest}, the signed one {sig.letter_sha256}",
            )
        try:
            key = self.ports.signing.public_key(sig.agency_id)
        except SigningKeyError as exc:
            return Verification(False, str(exc))
        if key.key_id != sig.key_id:
            return Verification(
                False, f"signed with key {sig.key_id}; the agency's key is now {key.key_id}"
            )
        return verify_digest(_public(key.pem), digest, sig.value)

    async def signature_document(self, referral: Referral) -> dict[str, str]:
        """The detached signature of the referral's issued letter, as ``liandong letter
        verify`` reads it (JSON)."""
        sig = referral.signature
        if sig is None or not sig.value:
            raise NotFound(f"referral {referral.id!r} has no signed letter", field="signature")
        return {
            "format": "liandong-letter-signature-v1",
            "algorithm": sig.algorithm,
            "agency_id": sig.agency_id,
            "key_id": sig.key_id,
            "letter_sha256": sig.letter_sha256,
            "letter_number": sig.letter_number,
            "signed_at": sig.signed_at.isoformat(),
            "signer_name": sig.signer_name,
            "referral_id": referral.id,
            "signature": sig.value,
        }
