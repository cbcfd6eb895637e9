//! The record as FHIR R4 (4.0.1) (issue 14 §6): `GET /fhir/Patient/{id}/$everything` and the
//! portal's *Download my data* answer one Bundle (a `searchset`, as `$everything` does) with the
//! Patient (and their emergency contacts), Condition, AllergyIntolerance, MedicationStatement,
//! MedicationRequest (the prescriptions of signed notes), Immunization, FamilyMemberHistory,
//! Encounter (visits with a signed note), DocumentReference (the signed notes as text and the
//! documents, which link to their download) and Coverage. Built by hand as JSON (no maintained
//! Rust crate has R4 4.0.1); the test command checks every bundle with Python's
//! `fhir.resources` 6.1.0, whose models are R4 4.0.1 and refuse unknown elements.

#[cfg(feature = "ssr")]
pub mod resources;
#[cfg(feature = "ssr")]
pub mod service;
