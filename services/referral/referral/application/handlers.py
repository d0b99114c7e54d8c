"""The referral service's application layer, one slice per aggregate and capability:

- ``referrals``   drafting and the lifecycle of a referral (referrals.py)
- ``materials``   materials, the transfer letter and downloads (materials.py)
- ``letters``     the letter issued at sending: 文号, 附件, signature, verification (issuing.py)
- ``complaints``  complaints and first-contact responsibility (complaints.py)
- ``delegation``  bulk moves at delegation (delegation.py)
- ``crime``       the crime route to public security (crime.py)
- ``reactions``   what the service does on other services' events (reactions.py)

Commands are frozen values (commands.py); every command handler takes
``(command, caller)``. The slices share one ``Runner`` (runner.py): the ports, the clocks
and the load → authorize → move → payload → commit path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from kernel.calendar import WorkingCalendar
from kernel.documents import DocumentRenderer
from kernel.policy import DistrictPolicy
from kernel.signing import SigningKeys
from kernel.store import FileStore
from referral.adapters.repository import (
    AgencyDirectory,
    CatalogueReadModel,
    ComplaintRepository,
    ElectronicConsents,
    LetterRegister,
    ReferralRepository,
    WaitingDispatches,
)
from referral.application.calendar import ReferralCalendar
from referral.application.complaints import ComplaintHandlers, ComplaintLedger
from referral.application.crime import CrimeHandlers
from referral.application.delegation import DelegationHandlers
from referral.application.issuing import LetterIssuer
from referral.application.materials import MaterialHandlers
from referral.application.reactions import ReferralReactions
from referral.application.referrals import ReferralCommands
from referral.application.runner import DispatchPhotoSource, ReferralPorts, Runner
from referral.domain.model import MAX_MATERIAL_BYTES

__all__ = ["ReferralHandlers"]


class ReferralHandlers:
    def __init__(
        self,
        referrals: ReferralRepository,
        agencies: AgencyDirectory,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        catalogue: CatalogueReadModel | None = None,
        complaints: ComplaintRepository | None = None,
        consents: ElectronicConsents | None = None,
        files: FileStore | None = None,
        max_material_bytes: int = MAX_MATERIAL_BYTES,
        render: DocumentRenderer | None = None,
        letters: LetterRegister | None = None,
        signing: SigningKeys | None = None,
        dispatch_photos: DispatchPhotoSource | None = None,
        waiting: WaitingDispatches | None = None,
    ) -> None:
        self.ports = ReferralPorts(
            referrals,
            agencies,
            policy,
            calendar,
            district,
            clock,
            catalogue,
            complaints,
            consents,
            files,
            render,
            max_material_bytes,
            letters,
            signing,
            dispatch_photos,
            waiting,
        )
        run = Runner(self.ports)
        ledger = ComplaintLedger(run)
        self.clock = clock
        self.clocks = run.clocks
        self.letters = LetterIssuer(run)
        self.referrals = ReferralCommands(run, ledger, self.letters)
        self.materials = MaterialHandlers(run)
        self.complaints = ComplaintHandlers(run, ledger, self.referrals)
        self.delegation = DelegationHandlers(run)
        self.calendar = ReferralCalendar(run)
        self.crime = CrimeHandlers(run)
        self.reactions = ReferralReactions(run)
