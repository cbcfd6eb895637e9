//! Each part of the record as a FHIR R4 resource (JSON). Pure functions of the record's own
//! types; free text stays text (`CodeableConcept.text`): the practice does not code its chart.

use crate::appointments::VisitType;
use crate::patients::model::PatientProfile;
use crate::records::documents::model::DocumentSummary;
use crate::records::model::{ChartEntry, ChartItem, ProblemStatus, Severity};
use crate::records::notes::model::{FiledNote, NoteBody, NoteContent};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

/// A FHIR `instant` / `dateTime`.
pub fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn text(value: &str) -> Value {
    json!({ "text": value })
}

fn reference(patient: &str) -> Value {
    json!({ "reference": format!("Patient/{patient}") })
}

/// The patient, with their emergency contacts (`Patient.contact`).
pub fn patient(profile: &PatientProfile, contacts: &[&ChartEntry]) -> Value {
    let mut words: Vec<&str> = profile.legal_name.split_whitespace().collect();
    let family = words.pop().unwrap_or_default();
    let mut names = vec![json!({
        "use": "official",
        "text": profile.legal_name,
        "family": family,
        "given": words,
    })];
    if let Some(preferred) = &profile.preferred_name {
        names.push(json!({ "use": "usual", "text": preferred }));
    }
    let mut patient = json!({
        "resourceType": "Patient",
        "id": profile.public_id,
        "active": true,
        "name": names,
        "birthDate": profile.date_of_birth.to_string(),
    });
    if let Some(phone) = &profile.phone {
        patient["telecom"] = json!([{ "system": "phone", "value": phone, "use": "mobile" }]);
    }
    let contacts: Vec<Value> = contacts
        .iter()
        .filter_map(|entry| match &entry.item {
            ChartItem::EmergencyContact {
                name,
                relationship,
                phone,
            } => {
                let mut contact = json!({
                    "name": { "text": name },
                    "telecom": [{ "system": "phone", "value": phone }],
                });
                if let Some(relationship) = relationship {
                    contact["relationship"] = json!([text(relationship)]);
                }
                Some(contact)
            }
            _ => None,
        })
        .collect();
    if !contacts.is_empty() {
        patient["contact"] = Value::Array(contacts);
    }
    patient
}

/// A chart entry as its resource (emergency contacts are part of the Patient: `None`).
pub fn chart_entry(patient: &str, entry: &ChartEntry) -> Option<Value> {
    let id = &entry.public_id;
    let recorded = instant(entry.updated_at);
    Some(match &entry.item {
        ChartItem::Problem {
            condition,
            onset,
            status,
        } => {
            let code = match status {
                ProblemStatus::Active => "active",
                ProblemStatus::Inactive => "inactive",
                ProblemStatus::Resolved => "resolved",
            };
            let mut resource = json!({
                "resourceType": "Condition",
                "id": id,
                "clinicalStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": code,
                }] },
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "problem-list-item",
                }] }],
                "code": text(condition),
                "subject": reference(patient),
                "recordedDate": recorded,
            });
            if let Some(onset) = onset {
                resource["onsetString"] = json!(onset);
            }
            resource
        }
        ChartItem::Allergy {
            substance,
            reaction,
            severity,
        } => {
            let mut resource = json!({
                "resourceType": "AllergyIntolerance",
                "id": id,
                "clinicalStatus": { "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }] },
                "code": text(substance),
                "patient": reference(patient),
                "recordedDate": recorded,
            });
            if matches!(severity, Severity::Severe | Severity::LifeThreatening) {
                resource["criticality"] = json!("high");
            }
            if let Some(reaction) = reaction {
                let mut detail = json!({ "manifestation": [text(reaction)] });
                let graded = match severity {
                    Severity::Mild => Some("mild"),
                    Severity::Moderate => Some("moderate"),
                    Severity::Severe | Severity::LifeThreatening => Some("severe"),
                    Severity::Unknown => None,
                };
                if let Some(graded) = graded {
                    detail["severity"] = json!(graded);
                }
                resource["reaction"] = json!([detail]);
            }
            resource
        }
        ChartItem::Medication {
            name,
            dose,
            how_taken,
            started,
            stopped,
            prescriber,
        } => {
            let mut resource = json!({
                "resourceType": "MedicationStatement",
                "id": id,
                "status": if stopped.is_some() { "completed" } else { "active" },
                "medicationCodeableConcept": text(name),
                "subject": reference(patient),
                "dateAsserted": recorded,
            });
            let dosage: Vec<&str> = [dose.as_deref(), how_taken.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !dosage.is_empty() {
                resource["dosage"] = json!([{ "text": dosage.join(", ") }]);
            }
            if started.is_some() || stopped.is_some() {
                let mut period = json!({});
                if let Some(start) = started {
                    period["start"] = json!(start.to_string());
                }
                if let Some(end) = stopped {
                    period["end"] = json!(end.to_string());
                }
                resource["effectivePeriod"] = period;
            }
            if let Some(prescriber) = prescriber {
                resource["note"] = json!([{ "text": format!("Prescribed by {prescriber}") }]);
            }
            resource
        }
        ChartItem::Immunization {
            vaccine,
            given_on,
            note,
        } => {
            let mut resource = json!({
                "resourceType": "Immunization",
                "id": id,
                "status": "completed",
                "vaccineCode": text(vaccine),
                "patient": reference(patient),
                "recorded": recorded,
            });
            match given_on {
                Some(date) => resource["occurrenceDateTime"] = json!(date.to_string()),
                None => resource["occurrenceString"] = json!("Date not known"),
            }
            if let Some(note) = note {
                resource["note"] = json!([{ "text": note }]);
            }
            resource
        }
        ChartItem::FamilyHistory {
            relative,
            condition,
        } => json!({
            "resourceType": "FamilyMemberHistory",
            "id": id,
            "status": "completed",
            "patient": reference(patient),
            "date": recorded,
            "relationship": text(relative),
            "condition": [{ "code": text(condition) }],
        }),
        ChartItem::Insurance {
            payer,
            member_id,
            group_number,
        } => {
            let mut resource = json!({
                "resourceType": "Coverage",
                "id": id,
                "status": "active",
                "subscriberId": member_id,
                "beneficiary": reference(patient),
                "payor": [{ "display": payer }],
            });
            if let Some(group) = group_number {
                resource["class"] = json!([{
                    "type": { "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                        "code": "group",
                    }] },
                    "value": group,
                }]);
            }
            resource
        }
        ChartItem::EmergencyContact { .. } => return None,
    })
}

/// A visit with a signed note: the Encounter, the note as a DocumentReference (its text), and
/// its prescriptions as MedicationRequests.
pub fn visit(
    patient: &str,
    filed: &FiledNote,
    ends_at: DateTime<Utc>,
    note_text: &str,
) -> Vec<Value> {
    let encounter = &filed.visit.appointment;
    let (class, class_name) = match filed.visit.visit_type {
        VisitType::InPerson => ("AMB", "ambulatory"),
        VisitType::Telemedicine => ("VR", "virtual"),
        VisitType::HomeVisit => ("HH", "home health"),
    };
    let mut visit = json!({
        "resourceType": "Encounter",
        "id": encounter,
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": class,
            "display": class_name,
        },
        "type": [text(filed.visit.visit_type.label())],
        "subject": reference(patient),
        "period": { "start": instant(filed.visit.starts_at), "end": instant(ends_at) },
    });
    if !filed.visit.reason.is_empty() {
        visit["reasonCode"] = json!([text(&filed.visit.reason)]);
    }
    let mut out = vec![visit];
    let signed_by = filed.note.signed.as_ref().map(|(by, _)| by.clone());
    let mut note = json!({
        "resourceType": "DocumentReference",
        "id": filed.note.public_id,
        "status": "current",
        "docStatus": "final",
        "type": { "coding": [{
            "system": "http://loinc.org",
            "code": "11506-3",
            "display": "Progress note",
        }] },
        "subject": reference(patient),
        "date": instant(filed.note.updated_at),
        "description": format!("Visit note, {}", filed.visit.when),
        "content": [{ "attachment": {
            "contentType": "text/plain; charset=utf-8",
            "data": base64::engine::general_purpose::STANDARD.encode(note_text),
            "title": format!("Visit note, {}", filed.visit.when),
        } }],
        "context": { "encounter": [{ "reference": format!("Encounter/{encounter}") }] },
    });
    if let Some(by) = &signed_by {
        note["author"] = json!([{ "display": by }]);
    }
    out.push(note);
    if let NoteBody::Signed(content) = &filed.note.body {
        out.extend(prescriptions(patient, filed, content, signed_by.as_deref()));
    }
    out
}

fn prescriptions(
    patient: &str,
    filed: &FiledNote,
    content: &NoteContent,
    by: Option<&str>,
) -> Vec<Value> {
    content
        .prescriptions
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let mut request = json!({
                "resourceType": "MedicationRequest",
                "id": format!("{}-rx{}", filed.note.public_id, n + 1),
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": text(&format!("{} {}", p.drug, p.strength)),
                "subject": reference(patient),
                "encounter": { "reference": format!("Encounter/{}", filed.visit.appointment) },
                "authoredOn": instant(filed.note.updated_at),
                "dosageInstruction": [{ "text": p.directions }],
                "dispenseRequest": {
                    "numberOfRepeatsAllowed": p.refills,
                    "quantity": { "value": p.quantity },
                },
            });
            if let Some(by) = by {
                request["requester"] = json!({ "display": by });
            }
            request
        })
        .collect()
}

/// A document in the record, linking to its download when there is one for the reader.
pub fn document(patient: &str, d: &DocumentSummary, url: Option<&str>) -> Value {
    let mut attachment = json!({
        "contentType": d.media_type.mime(),
        "size": d.size,
        "title": d.title,
        "creation": date_time(d.date),
    });
    if let Some(url) = url {
        attachment["url"] = json!(url);
    }
    json!({
        "resourceType": "DocumentReference",
        "id": d.public_id,
        "status": "current",
        "type": text(d.kind.label()),
        "subject": reference(patient),
        "date": instant(d.uploaded_at),
        "description": d.title,
        "author": [{ "display": d.uploaded_by }],
        "content": [{ "attachment": attachment }],
    })
}

fn date_time(date: NaiveDate) -> String {
    date.to_string()
}

/// A signed note as plain text (the DocumentReference's content).
pub fn note_text(filed: &FiledNote) -> String {
    let NoteBody::Signed(c) = &filed.note.body else {
        return String::new();
    };
    let mut out = format!(
        "Visit note - {} - {}\n",
        filed.visit.when,
        filed.visit.visit_type.label()
    );
    for (title, part) in [
        ("Subjective", &c.subjective),
        ("Objective", &c.objective),
        ("Assessment", &c.assessment),
        ("Plan", &c.plan),
    ] {
        if !part.is_empty() {
            out.push_str(&format!("\n{title}\n{part}\n"));
        }
    }
    for p in &c.prescriptions {
        out.push_str(&format!(
            "\nPrescription: {} {}: {}. Quantity {}, refills {}.\n",
            p.drug, p.strength, p.directions, p.quantity, p.refills
        ));
    }
    out.push_str(&format!("\nFollow-up: {}\n", c.follow_up()));
    if let Some((by, at)) = &filed.note.signed {
        out.push_str(&format!("\nSigned by {by} on {at}.\n"));
    }
    for a in &filed.note.addenda {
        out.push_str(&format!(
            "\nAddendum by {} on {}: {}\n",
            a.by, a.when, a.text
        ));
    }
    out
}

/// The Bundle of `resources`, each with its full URL under `base` (`https://…/fhir`).
pub fn bundle(id: &str, at: DateTime<Utc>, base: &str, resources: Vec<Value>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let url = format!(
                "{base}/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({ "fullUrl": url, "resource": resource, "search": { "mode": "match" } })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "id": id,
        "meta": { "lastUpdated": instant(at) },
        "type": "searchset",
        "total": entries.len(),
        "entry": entries,
    })
}
