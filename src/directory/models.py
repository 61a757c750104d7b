"""Every table model, imported once so that ``SQLModel.metadata`` is complete (Alembic reads it)."""

from sqlmodel import SQLModel

from directory.accounts.models import Account, AccountNpi, AccountToken, ProviderOwner, WebSession
from directory.consultations.models import ConsultationAccess, ConsultationRequest, ConsultationTally
from directory.geocoding.models import GeocodeCacheEntry
from directory.listings.duplicates import DuplicateCandidate
from directory.listings.held import PendingChange
from directory.listings.models import Clinician, ListingChange, Location, OpeningInterval, Provider, ProviderClinician, ProviderCondition, ProviderService
from directory.listings.team import ListingInvitation
from directory.mail import QueuedMail
from directory.moderation.models import Claim, ListingReport
from directory.partners.models import ApiKey
from directory.sync.models import FeedEntry, WebhookDelivery, WebhookSubscription
from directory.taxonomy.models import Condition, Service
from directory.verification.models import VerificationRecord

metadata = SQLModel.metadata

__all__ = [
    "ConsultationAccess",
    "ConsultationRequest",
    "ConsultationTally",
    "DuplicateCandidate",
    "Account",
    "AccountNpi",
    "AccountToken",
    "ListingInvitation",
    "ListingReport",
    "QueuedMail",
    "WebSession",
    "ApiKey",
    "Claim",
    "PendingChange",
    "ListingChange",
    "ProviderOwner",
    "Clinician",
    "Condition",
    "GeocodeCacheEntry",
    "Location",
    "OpeningInterval",
    "Provider",
    "ProviderClinician",
    "ProviderCondition",
    "ProviderService",
    "Service",
    "VerificationRecord",
    "FeedEntry",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
