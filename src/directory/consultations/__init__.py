"""Consultation requests: a patient asks a clinic to contact them, from its listing page or a
partner's embed. Health-related personal data: sealed at rest, shown only to the listing's owners,
delivered by mail off the request path, deleted on time (see ``service`` and the README)."""
