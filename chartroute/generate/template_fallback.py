"""Embedded copy of config/practice.yaml, used when the repository file is not available.

An installed wheel has no repository checkout next to it; the generator still has to write a
complete practice.yaml, so it falls back to this copy. Keep it in step with the repository file
(a test compares the two).
"""

PRACTICE_TEMPLATE_YAML = """\
# chartroute practice configuration: one file per practice.
# `chartroute config check --config config/practice.yaml` validates it; every field is
# documented in chartroute/config/models.py and in the generated JSON Schema
# (`chartroute config schema`). Secrets never go here: they come from the environment.
practice:
  name: Example Family Medicine
  timezone: America/New_York
  # Deep link into the EHR for a chart; {encounter_id} is replaced.
  ehr_link_template: "https://ehr.example.org/chart/encounter/{encounter_id}"

# shadow: every run classifies, routes, escalates and records the messages it would send
# (`chartroute outbox --status shadow`), but reaches nobody and writes nothing to the EHR.
# live: deliver. Review a sample first (docs/go-live.md), then set `mode: live`. Without this
# line a practice runs in shadow until it has once run live, and live from then on.
mode: shadow

charts:
  # Encounter statuses and classes (v3 ActCode) that make a chart.
  encounter_statuses: [finished, in-progress, onleave]
  encounter_classes: [AMB, VR, HH]

roster:
  - id: dr-avery
    name: Dr. Avery Stone
    roles: [clinician]
    practitioner: Practitioner/prac-001
    daily_capacity: 30
    backup: dr-blake
    slack: U000AVERY
    email: avery.stone@example.org
  - id: dr-blake
    name: Dr. Blake Rivers
    roles: [clinician]
    practitioner: Practitioner/prac-002
    daily_capacity: 30
    backup: dr-avery
    email: blake.rivers@example.org
  - id: ma-casey
    name: Casey Lane
    roles: [medical-assistant]
    pod: [dr-avery]
    daily_capacity: 60
    backup: ma-devon
    email: casey.lane@example.org
  - id: ma-devon
    name: Devon Park
    roles: [medical-assistant]
    pod: [dr-blake]
    daily_capacity: 60
    backup: ma-casey
    email: devon.park@example.org
  - id: rc-emery
    name: Emery Hale
    roles: [referral-coordinator]
    daily_capacity: 80
    email: emery.hale@example.org
  - id: fd-finley
    name: Finley Cross
    roles: [front-desk]
    daily_capacity: 80
    email: finley.cross@example.org
  - id: coder-gray
    name: Gray Moss
    roles: [coder]
    daily_capacity: 120
    email: gray.moss@example.org
  - id: mgr-harper
    name: Harper Quinn
    roles: [manager]
    daily_capacity: 20
    email: harper.quinn@example.org
  - id: md-indigo
    name: Dr. Indigo Vale
    roles: [medical-director, clinician]
    practitioner: Practitioner/prac-900
    daily_capacity: 10
    email: indigo.vale@example.org

routing:
  # Role that takes each blocker category.
  categories:
    unsigned-note: clinician
    pending-result: medical-assistant
    awaiting-referral-auth: referral-coordinator
    coding-query: clinician
  # Role that takes each documentation-gap field ("forms" covers every required form).
  documentation_fields:
    chief-complaint: medical-assistant
    diagnosis: clinician
    level-of-service: clinician
    rendering-clinician: front-desk
    forms: medical-assistant

documentation:
  # Fields every chart needs, unless its encounter type has its own list below.
  required_fields: [chief-complaint, diagnosis, level-of-service, rendering-clinician]
  # Keyed by "<system>|<code>" of an Encounter.type coding.
  by_encounter_type:
    "http://snomed.info/sct|410620009":   # well child visit
      required_fields: [chief-complaint, diagnosis, level-of-service, rendering-clinician]
      forms: ["http://example.org/fhir/Questionnaire/well-child-screening"]
    "http://snomed.info/sct|390906007":   # follow-up encounter
      required_fields: [diagnosis, level-of-service, rendering-clinician]

billing:
  currency: USD
  # Expected charge per level-of-service code (CPT), for priority and ROI.
  fee_schedule:
    "99202": 75.00
    "99203": 115.00
    "99204": 170.00
    "99205": 225.00
    "99211": 25.00
    "99212": 60.00
    "99213": 95.00
    "99214": 135.00
    "99215": 190.00
  # Days from the visit a payer accepts a claim; keyed by the Claim.insurer reference.
  default_timely_filing_days: 90
  timely_filing_days:
    Organization/payer-medicare: 365
    Organization/payer-medicaid: 180
"""
