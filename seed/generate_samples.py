"""Generate seed/sample_providers.json: fictional clinics at real US ZIP codes.

Run from the project root with ``python seed/generate_samples.py``. The output is committed; the
random generator is seeded, so running it again gives the same file. Every clinic is fictional:
phone numbers use the 555-01xx range reserved for fiction, web and mail addresses use the reserved
``.example`` domain, and every description says it is sample data.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import zipcodes

OUT = Path(__file__).resolve().parent / "sample_providers.json"

# (city as the ZIP data spells it, state, clinics there)
METROS = [
    ("New York", "NY", 3), ("Los Angeles", "CA", 3), ("Chicago", "IL", 3), ("Houston", "TX", 3),
    ("Phoenix", "AZ", 3), ("Philadelphia", "PA", 3), ("San Antonio", "TX", 2), ("San Diego", "CA", 3),
    ("Dallas", "TX", 3), ("Austin", "TX", 3), ("Jacksonville", "FL", 2), ("San Jose", "CA", 2),
    ("Columbus", "OH", 2), ("Charlotte", "NC", 2), ("Indianapolis", "IN", 2), ("San Francisco", "CA", 3),
    ("Seattle", "WA", 3), ("Denver", "CO", 3), ("Washington", "DC", 2), ("Boston", "MA", 3),
    ("Nashville", "TN", 2), ("Portland", "OR", 2), ("Las Vegas", "NV", 2), ("Detroit", "MI", 2),
    ("Atlanta", "GA", 3), ("Miami", "FL", 3), ("Minneapolis", "MN", 2), ("Salt Lake City", "UT", 2),
    ("Albuquerque", "NM", 2), ("Kansas City", "MO", 2), ("New Orleans", "LA", 2), ("Anchorage", "AK", 2),
    ("Fairbanks", "AK", 1), ("Honolulu", "HI", 2), ("Hilo", "HI", 1), ("Omaha", "NE", 1), ("Boise", "ID", 1),
    ("Tampa", "FL", 2),
]  # fmt: skip

NAME_PATTERNS = [
    "{place} Ketamine Clinic", "{word} Infusion Center of {place}", "{place} Ketamine Wellness",
    "{word} Mind Infusions", "{word} Ketamine & Wellness", "{place} Infusion Therapy", "{word} Psychiatry & Infusions",
    "{word} Ketamine Institute",
]  # fmt: skip
WORDS = [
    "Clarity", "Harbor", "Evergreen", "Summit", "Northstar", "Lumen", "Serenity", "Cedar", "Bluebird",
    "Keystone", "Horizon", "Meridian", "Tidewater", "Aspen", "Willow", "Beacon", "Riverside", "Sage",
]  # fmt: skip
STREETS = ["Main Street", "Oak Avenue", "Park Boulevard", "Market Street", "Elm Street", "Medical Plaza Drive",
           "Lake Road", "Center Street", "Washington Avenue", "Harbor Way"]  # fmt: skip
FIRST = ["Maya", "Daniel", "Priya", "Samuel", "Elena", "Marcus", "Aiko", "Grace", "Jonah", "Lucia", "Omar",
         "Hannah", "Tomas", "Leilani", "Nadia", "Ethan", "Rosa", "Kenji", "Claire", "Andre"]  # fmt: skip
LAST = ["Alvarez", "Bennett", "Chen", "Okafor", "Kowalski", "Nakamura", "Patel", "Reyes", "Sullivan", "Haddad",
        "Kealoha", "Lindqvist", "Moreau", "Ibrahim", "Park", "Whitaker", "Novak", "Delgado", "Foster", "Ahn"]  # fmt: skip
CLINICIAN_KINDS = [
    ("MD", "anesthesiology", "Medical director", ["American Board of Anesthesiology"]),
    ("MD", "psychiatry", "Psychiatrist", ["American Board of Psychiatry and Neurology"]),
    ("DO", "emergency_medicine", "Infusion physician", ["American Board of Emergency Medicine"]),
    ("CRNA", "anesthesiology", "Nurse anesthetist", []),
    ("NP", "psychiatry", "Psychiatric nurse practitioner", []),
    ("MD", "pain_medicine", "Pain specialist", ["American Board of Anesthesiology - Pain Medicine"]),
    ("LCSW", "social_work", "Integration therapist", []),
]
SERVICE_ROUTES = {"ketamine-iv": "iv", "ketamine-maintenance": "iv", "ketamine-im": "im",
                  "esketamine-spravato": "intranasal", "ketamine-at-home": "oral"}  # fmt: skip
MENTAL = ["major-depression", "treatment-resistant-depression", "bipolar-depression", "postpartum-depression",
          "suicidal-ideation", "generalized-anxiety-disorder", "social-anxiety-disorder", "ptsd", "ocd",
          "substance-use-disorder"]  # fmt: skip
PAIN = ["chronic-pain", "crps", "fibromyalgia", "migraine"]
CARRIERS = ["Aetna", "Blue Cross Blue Shield", "Cigna", "Humana", "Medicare", "Tricare", "UnitedHealthcare"]
LANGUAGES = ["es", "zh", "vi", "ko", "tl", "ru", "fr", "haw"]


def zips_of(city: str, state: str) -> list[dict]:
    rows = [
        row for row in zipcodes.filter_by(city=city, state=state)
        if row["zip_code_type"] == "STANDARD" and row["active"] and float(row["lat"]) != 0
    ]  # fmt: skip
    if not rows:
        raise SystemExit(f"no ZIP codes for {city}, {state}")
    return sorted(rows, key=lambda row: row["zip_code"])


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hours(rng: random.Random) -> list[dict[str, str]]:
    opens, closes = rng.choice([("08:00", "17:00"), ("09:00", "18:00"), ("07:30", "16:00"), ("10:00", "19:00")])
    week = [{"day": day, "opens": opens, "closes": closes} for day in ("mon", "tue", "wed", "thu", "fri")]
    if rng.random() < 0.4:
        week.append({"day": "sat", "opens": "09:00", "closes": "13:00"})
    return week


def clinic(rng: random.Random, city: str, state: str, number: int, used: set[str]) -> dict:
    area = zips_of(city, state)
    while True:
        name = rng.choice(NAME_PATTERNS).format(place=city, word=rng.choice(WORDS))
        if name not in used:
            used.add(name)
            break
    domain = slug(name) + ".example"
    area_code = (area[0].get("area_codes") or ["555"])[0]
    services = ["consultation", *rng.sample(["ketamine-iv", "ketamine-iv", "ketamine-maintenance", "ketamine-im",
                                              "esketamine-spravato", "ketamine-assisted-psychotherapy",
                                              "ketamine-at-home", "nad-infusion", "iv-nutrient-therapy"], 3)]  # fmt: skip
    services = list(dict.fromkeys(services))
    conditions = rng.sample(MENTAL, rng.randint(1, 3)) + (rng.sample(PAIN, 1) if rng.random() < 0.5 else [])
    payment = ["self_pay"] + [p for p in ("insurance", "financing", "sliding_scale", "hsa_fsa") if rng.random() < 0.4]
    price_min = rng.choice([350, 400, 450, 500])
    telehealth = rng.random() < 0.4 or "ketamine-at-home" in services
    locations = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        row = rng.choice(area)
        locations.append({
            "address_line1": f"{rng.randint(100, 9899)} {rng.choice(STREETS)}",
            "address_line2": f"Suite {rng.randint(1, 9)}{rng.randint(0, 9)}0",
            "city": row["city"].title() if row["city"].isupper() else row["city"],
            "state": state,
            "postal_code": row["zip_code"],
            "phone": f"({area_code}) 555-01{rng.randint(0, 99):02d}",
            "hours": hours(rng),
            "accessibility": rng.choice(["Step-free entrance and accessible restroom.", "Elevator access; reserved accessible parking.", None]),
        })  # fmt: skip
    locations = [{k: v for k, v in loc.items() if v is not None} for loc in locations]
    clinicians = []
    for kind in rng.sample(CLINICIAN_KINDS, rng.randint(1, 3)):
        credential, specialty, role, boards = kind
        clinicians.append({
            "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST), "credential": credential,
            "specialty": specialty, "role": role, "board_certifications": boards,
            "licenses": [{"state": state, "number": f"SAMPLE-{rng.randint(10000, 99999)}",
                          "expires_on": f"{rng.choice([2027, 2028])}-{rng.randint(1, 12):02d}-28"}],
        })  # fmt: skip
    offers = []
    for code in services:
        offer: dict = {"code": code}
        if code in ("ketamine-iv", "ketamine-maintenance"):
            offer.update(price_min=price_min, price_max=price_min + rng.choice([100, 150, 250]), session_minutes=rng.choice([45, 50, 60]))
        elif code == "consultation":
            offer.update(price_min=0, price_max=0, session_minutes=30)
        elif code == "esketamine-spravato":
            offer.update(session_minutes=120)
        offers.append(offer)
    routes = sorted({SERVICE_ROUTES[code] for code in services if code in SERVICE_ROUTES})
    extra_languages = rng.sample(LANGUAGES, 1) if rng.random() < 0.35 else []
    if state == "HI" and rng.random() < 0.7:
        extra_languages = ["haw"]
    return {
        "name": name,
        "description": (
            f"Sample data: {name} is a fictional clinic in {city}, {state}, listed to show how the directory works. "
            "Infusions last about 45-60 minutes and are monitored throughout; screening covers medical history, "
            "medications, blood pressure and substance use."
        ),
        "website": f"https://www.{domain}",
        "phone": f"({area_code}) 555-01{number % 100:02d}",
        "email": f"intake@{domain}",
        "status": "published",
        "accepting_new_patients": rng.random() < 0.8,
        "telehealth": telehealth,
        "telehealth_states": [state] if telehealth else [],
        "payment_options": payment,
        "insurance_carriers": sorted(rng.sample(CARRIERS, rng.randint(1, 3))) if "insurance" in payment else [],
        "price": {"min": price_min, "max": price_min + rng.choice([100, 150, 250, 300]), "currency": "USD"},
        "languages": ["en", *extra_languages],
        "routes": routes,
        "rems_certified": "esketamine-spravato" in services,
        "locations": locations,
        "services": offers,
        "conditions": conditions,
        "clinicians": clinicians,
    }


def main() -> None:
    rng = random.Random(20261121)
    used: set[str] = set()
    clinics = []
    for city, state, count in METROS:
        for _ in range(count):
            clinics.append(clinic(rng, city, state, len(clinics), used))
    OUT.write_text(json.dumps(clinics, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(clinics)} clinics in {len(METROS)} metros -> {OUT.name}")


if __name__ == "__main__":
    main()
