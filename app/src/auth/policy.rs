//! Who may do what: one function, [`can`], default deny (R4.5, P5).
//!
//! Every server function and handler asks it before touching data, and the services also
//! restrict their queries by ownership, so a forgotten check in a page cannot leak a record.
//! The rules follow HIPAA's "minimum necessary": the administrator runs the practice's software
//! but does not read charts; staff schedule and bill but do not read clinical notes. Beyond the
//! role, a person may hold a [`Grant`] for one patient, for a time: a staff member the physician
//! lets work on that patient's chart, or the administrator's emergency ("break-glass") read.
//! [`can_with`] takes the grant the person holds for the resource's patient, if any.

use super::model::Role;
use serde::{Deserialize, Serialize};

/// The person acting, as established by their session (after the second factor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i32,
    pub role: Role,
    /// The patient record of this account, when the actor is a patient.
    pub patient_id: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    Read,
    Write,
}

/// What an action is aimed at. Patient-owned resources name their patient, so ownership is
/// part of the question, not an afterthought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resource {
    /// Demographics and contact details (name, date of birth, phone, address).
    PatientProfile {
        patient_id: i32,
    },
    /// Clinical content: visit notes, problems, medications, documents.
    PatientChart {
        patient_id: i32,
    },
    /// The parts of the chart a patient keeps themselves: their history, allergies,
    /// medications, family history, emergency contacts and insurance (a change is a new
    /// version; the physician sees who made it).
    PatientHistory {
        patient_id: i32,
    },
    /// A patient's visits (booking, cancelling, the reason given).
    Appointments {
        patient_id: i32,
    },
    /// A membership and its billing: tier, status, invoices, the card on file (by the
    /// processor's reference only).
    Membership {
        patient_id: i32,
    },
    /// The practice's billing as a whole: every member's invoices (refunds are a write on the
    /// member's `Membership`).
    Billing,
    /// The list of patients (the dashboard's search).
    PatientDirectory,
    /// The physician's agenda: every patient's booked visits and their reasons.
    Agenda,
    /// Working hours, visit lengths and days off.
    Schedule,
    /// A person's own sign-in: password, MFA, sessions.
    Account {
        user_id: i32,
    },
    /// Staff accounts and roles.
    StaffDirectory,
    MembershipTiers,
    AuditLog,
    /// Who else may open a patient's chart (staff the physician let in, emergency reads).
    AccessGrants {
        patient_id: i32,
    },
    /// Opening a patient's record in an emergency (the administrator's break-glass read).
    EmergencyAccess {
        patient_id: i32,
    },
    /// The administrator's emergency reads of every patient's record, as the physician is told
    /// of them on the dashboard.
    EmergencyReads,
    /// A patient's share links: handing the record to someone outside the practice is the
    /// patient's own decision, so only the patient makes, reads and ends them.
    ShareLinks {
        patient_id: i32,
    },
    /// A patient's conversations with the practice: the patient, the physician, and staff the
    /// physician let work on that patient's chart.
    Messages {
        patient_id: i32,
    },
    /// The practice's inbox: every conversation it may read (for staff, those of the patients
    /// they hold a grant for; the list narrows itself), one audit entry per patient shown.
    Inbox,
    /// The practice's saved message templates: its own words, kept by the physician and staff.
    Templates,
}

/// An access to one patient's record held beyond one's role, for a limited time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "ssr", sea_orm(value_type = "String"))]
pub enum Grant {
    /// The physician let this staff member work on the patient's chart: read it, and keep the
    /// history the patient keeps (allergies, medications, contacts); never the notes.
    Care,
    /// The administrator's emergency read, with a reason, shown to the physician: read only.
    BreakGlass,
}

crate::stored_words!(Grant, "access grant", {
    Care => "care",
    BreakGlass => "break_glass",
});

impl Resource {
    /// The patient a resource belongs to, if it is one patient's.
    pub fn patient(&self) -> Option<i32> {
        match self {
            Resource::PatientProfile { patient_id }
            | Resource::PatientChart { patient_id }
            | Resource::PatientHistory { patient_id }
            | Resource::Appointments { patient_id }
            | Resource::Membership { patient_id }
            | Resource::AccessGrants { patient_id }
            | Resource::EmergencyAccess { patient_id }
            | Resource::ShareLinks { patient_id }
            | Resource::Messages { patient_id } => Some(*patient_id),
            Resource::PatientDirectory
            | Resource::Billing
            | Resource::Agenda
            | Resource::Schedule
            | Resource::Account { .. }
            | Resource::StaffDirectory
            | Resource::MembershipTiers
            | Resource::AuditLog
            | Resource::EmergencyReads
            | Resource::Inbox
            | Resource::Templates => None,
        }
    }
}

impl Resource {
    /// The name used in the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::PatientProfile { .. } => "patient_profile",
            Resource::PatientChart { .. } => "patient_chart",
            Resource::PatientHistory { .. } => "patient_history",
            Resource::Appointments { .. } => "appointments",
            Resource::Membership { .. } => "membership",
            Resource::Billing => "billing",
            Resource::PatientDirectory => "patient_directory",
            Resource::Agenda => "agenda",
            Resource::Schedule => "schedule",
            Resource::Account { .. } => "account",
            Resource::StaffDirectory => "staff_directory",
            Resource::MembershipTiers => "membership_tiers",
            Resource::AuditLog => "audit_log",
            Resource::AccessGrants { .. } => "access_grants",
            Resource::EmergencyAccess { .. } => "emergency_access",
            Resource::ShareLinks { .. } => "share_links",
            Resource::EmergencyReads => "emergency_reads",
            Resource::Messages { .. } => "messages",
            Resource::Inbox => "inbox",
            Resource::Templates => "message_templates",
        }
    }
}

/// Whether `actor` may perform `action` on `resource` by their role alone. Anything not allowed
/// here is denied.
pub fn can(actor: &Actor, action: Action, resource: &Resource) -> bool {
    can_with(actor, action, resource, None)
}

/// Whether `actor`, holding `grant` for `resource`'s patient (the guard looks it up: active,
/// theirs, for that patient), may perform `action` on `resource`.
pub fn can_with(actor: &Actor, action: Action, resource: &Resource, grant: Option<Grant>) -> bool {
    use Action::{Read, Write};
    use Role::{Admin, Patient, Physician, Staff};
    let owns = |patient_id: i32| actor.role == Patient && actor.patient_id == Some(patient_id);
    match (actor.role, action, resource) {
        // A patient sees and corrects their own details and reads their own chart.
        (Patient, Read | Write, Resource::PatientProfile { patient_id }) => owns(*patient_id),
        (Patient, Read, Resource::PatientChart { patient_id }) => owns(*patient_id),
        (Patient, Read | Write, Resource::PatientHistory { patient_id }) => owns(*patient_id),
        (Patient, Read | Write, Resource::Appointments { patient_id }) => owns(*patient_id),
        (Patient, Read | Write, Resource::Membership { patient_id }) => owns(*patient_id),
        (Patient, Read | Write, Resource::ShareLinks { patient_id }) => owns(*patient_id),
        (Patient, Read | Write, Resource::Messages { patient_id }) => owns(*patient_id),
        // A patient sees who in the practice was let into their record, and why.
        (Patient, Read, Resource::AccessGrants { patient_id }) => owns(*patient_id),
        // The physician treats every member of the practice.
        (Physician, Read | Write, Resource::PatientProfile { .. })
        | (Physician, Read | Write, Resource::PatientChart { .. })
        | (Physician, Read | Write, Resource::PatientHistory { .. })
        | (Physician, Read | Write, Resource::Appointments { .. })
        | (Physician, Read, Resource::Membership { .. })
        | (Physician, Read, Resource::PatientDirectory)
        | (Physician, Read, Resource::Agenda)
        | (Physician, Read | Write, Resource::Schedule)
        | (Physician, Read | Write, Resource::AccessGrants { .. })
        | (Physician, Read, Resource::EmergencyReads)
        | (Physician, Read | Write, Resource::Messages { .. })
        | (Physician, Read, Resource::Inbox)
        | (Physician, Read | Write, Resource::Templates) => true,
        // Staff schedule, call and bill: demographics, not clinical content.
        (Staff, Read | Write, Resource::PatientProfile { .. })
        | (Staff, Read | Write, Resource::Appointments { .. })
        | (Staff, Read | Write, Resource::Membership { .. })
        | (Staff, Read, Resource::PatientDirectory)
        | (Staff, Read, Resource::Agenda)
        | (Staff, Read, Resource::Schedule)
        | (Staff, Read, Resource::Inbox)
        | (Staff, Read | Write, Resource::Templates) => true,
        // Beyond the role: a staff member the physician let in works on that chart, and the
        // administrator's emergency read reads it; neither writes a note.
        (Staff, Read, Resource::PatientChart { .. })
        | (Staff, Read | Write, Resource::PatientHistory { .. })
        | (Staff, Read | Write, Resource::Messages { .. }) => grant == Some(Grant::Care),
        (
            Admin,
            Read,
            Resource::PatientProfile { .. }
            | Resource::PatientChart { .. }
            | Resource::PatientHistory { .. },
        ) => grant == Some(Grant::BreakGlass),
        // Everyone manages their own sign-in; the administrator may also disable others'.
        (_, Read | Write, Resource::Account { user_id }) if *user_id == actor.user_id => true,
        (Admin, Read | Write, Resource::Account { .. }) => true,
        (Admin, Read | Write, Resource::StaffDirectory)
        | (Admin, Read | Write, Resource::MembershipTiers)
        | (Admin, Read | Write, Resource::Membership { .. })
        | (Admin, Read | Write, Resource::Billing)
        | (Admin, Read, Resource::AuditLog)
        // The break-glass itself: a reason, kept and shown to the physician, then a read.
        | (Admin, Write, Resource::EmergencyAccess { .. }) => true,
        // Tiers are public; the audit log is written only by the system, never by a person.
        (_, Read, Resource::MembershipTiers) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, user_id: i32, patient_id: Option<i32>) -> Actor {
        Actor {
            user_id,
            role,
            patient_id,
        }
    }

    #[test]
    fn a_patient_keeps_their_own_history_the_physician_all_of_it_and_nobody_else_any() {
        let history = |patient_id| Resource::PatientHistory { patient_id };
        let maria = actor(Role::Patient, 10, Some(3));
        for action in [Action::Read, Action::Write] {
            assert!(can(&maria, action, &history(3)));
            assert!(!can(&maria, action, &history(4)));
            assert!(can(&actor(Role::Physician, 1, None), action, &history(4)));
            assert!(!can(&actor(Role::Staff, 2, None), action, &history(3)));
            assert!(!can(&actor(Role::Admin, 3, None), action, &history(3)));
        }
        // The clinical chart (immunizations, notes) stays the practice's to write.
        assert!(!can(
            &maria,
            Action::Write,
            &Resource::PatientChart { patient_id: 3 }
        ));
    }

    #[test]
    fn a_patient_reaches_their_own_record_and_no_one_elses() {
        let maria = actor(Role::Patient, 10, Some(3));
        assert!(can(
            &maria,
            Action::Read,
            &Resource::PatientProfile { patient_id: 3 }
        ));
        assert!(can(
            &maria,
            Action::Write,
            &Resource::PatientProfile { patient_id: 3 }
        ));
        assert!(can(
            &maria,
            Action::Read,
            &Resource::PatientChart { patient_id: 3 }
        ));
        assert!(!can(
            &maria,
            Action::Write,
            &Resource::PatientChart { patient_id: 3 }
        ));
        assert!(!can(
            &maria,
            Action::Read,
            &Resource::PatientProfile { patient_id: 4 }
        ));
        assert!(!can(
            &maria,
            Action::Read,
            &Resource::PatientChart { patient_id: 4 }
        ));
        assert!(!can(&maria, Action::Read, &Resource::PatientDirectory));
        assert!(!can(&maria, Action::Read, &Resource::AuditLog));
    }

    #[test]
    fn visits_belong_to_their_patient_and_the_agenda_to_the_practice() {
        let maria = actor(Role::Patient, 10, Some(3));
        assert!(can(
            &maria,
            Action::Write,
            &Resource::Appointments { patient_id: 3 }
        ));
        assert!(!can(
            &maria,
            Action::Write,
            &Resource::Appointments { patient_id: 4 }
        ));
        assert!(!can(&maria, Action::Read, &Resource::Agenda));
        for role in [Role::Physician, Role::Staff] {
            let person = actor(role, 2, None);
            assert!(can(&person, Action::Read, &Resource::Agenda));
            assert!(can(
                &person,
                Action::Write,
                &Resource::Appointments { patient_id: 3 }
            ));
        }
        assert!(can(
            &actor(Role::Physician, 2, None),
            Action::Write,
            &Resource::Schedule
        ));
        assert!(!can(
            &actor(Role::Staff, 2, None),
            Action::Write,
            &Resource::Schedule
        ));
        let admin = actor(Role::Admin, 1, None);
        assert!(!can(&admin, Action::Read, &Resource::Agenda));
        assert!(!can(
            &admin,
            Action::Read,
            &Resource::Appointments { patient_id: 3 }
        ));
    }

    #[test]
    fn members_manage_their_own_membership_and_only_the_admin_refunds() {
        let maria = actor(Role::Patient, 10, Some(3));
        let own = Resource::Membership { patient_id: 3 };
        let other = Resource::Membership { patient_id: 4 };
        assert!(can(&maria, Action::Write, &own));
        assert!(!can(&maria, Action::Read, &other));
        for role in [Role::Patient, Role::Staff, Role::Physician] {
            assert!(
                !can(&actor(role, 1, Some(3)), Action::Write, &Resource::Billing),
                "{role:?}"
            );
        }
        assert!(can(
            &actor(Role::Admin, 1, None),
            Action::Write,
            &Resource::Billing
        ));
        assert!(!can(
            &actor(Role::Staff, 2, None),
            Action::Read,
            &Resource::Billing
        ));
    }

    #[test]
    fn a_patient_account_without_a_record_owns_nothing() {
        let nobody = actor(Role::Patient, 10, None);
        assert!(!can(
            &nobody,
            Action::Read,
            &Resource::PatientProfile { patient_id: 0 }
        ));
    }

    #[test]
    fn staff_see_demographics_but_not_charts_and_the_admin_sees_neither() {
        let staff = actor(Role::Staff, 2, None);
        assert!(can(
            &staff,
            Action::Read,
            &Resource::PatientProfile { patient_id: 3 }
        ));
        assert!(!can(
            &staff,
            Action::Read,
            &Resource::PatientChart { patient_id: 3 }
        ));
        let admin = actor(Role::Admin, 1, None);
        assert!(!can(
            &admin,
            Action::Read,
            &Resource::PatientProfile { patient_id: 3 }
        ));
        assert!(!can(
            &admin,
            Action::Read,
            &Resource::PatientChart { patient_id: 3 }
        ));
        assert!(can(&admin, Action::Read, &Resource::AuditLog));
        assert!(!can(&admin, Action::Write, &Resource::AuditLog));
    }

    #[test]
    fn people_manage_their_own_account_and_only_the_admin_manages_others() {
        let physician = actor(Role::Physician, 5, None);
        assert!(can(
            &physician,
            Action::Write,
            &Resource::Account { user_id: 5 }
        ));
        assert!(!can(
            &physician,
            Action::Write,
            &Resource::Account { user_id: 6 }
        ));
        let admin = actor(Role::Admin, 1, None);
        assert!(can(
            &admin,
            Action::Write,
            &Resource::Account { user_id: 6 }
        ));
    }

    use proptest::prelude::*;

    fn any_role() -> impl Strategy<Value = Role> {
        prop::sample::select(vec![
            Role::Patient,
            Role::Physician,
            Role::Staff,
            Role::Admin,
        ])
    }

    fn any_grant() -> impl Strategy<Value = Option<Grant>> {
        prop::sample::select(vec![None, Some(Grant::Care), Some(Grant::BreakGlass)])
    }

    fn any_resource() -> impl Strategy<Value = Resource> {
        (0..4_i32, 0..15_u8).prop_map(|(id, kind)| match kind {
            0 => Resource::PatientProfile { patient_id: id },
            1 => Resource::PatientChart { patient_id: id },
            2 => Resource::PatientHistory { patient_id: id },
            3 => Resource::Appointments { patient_id: id },
            4 => Resource::Membership { patient_id: id },
            5 => Resource::AccessGrants { patient_id: id },
            6 => Resource::Account { user_id: id },
            7 => Resource::EmergencyAccess { patient_id: id },
            8 => Resource::AuditLog,
            9 => Resource::ShareLinks { patient_id: id },
            10 => Resource::EmergencyReads,
            11 => Resource::Messages { patient_id: id },
            12 => Resource::Inbox,
            13 => Resource::Templates,
            _ => Resource::PatientDirectory,
        })
    }

    proptest! {
        /// P5 over people × roles × grants × records × actions: a grant only ever adds what its
        /// kind is for (staff: read the chart, keep the history; the administrator: read the
        /// record), to the role it is for, on the patient it is for; it never takes away what
        /// the role allows, never writes a note, and never reaches past patients' records.
        #[test]
        fn p5_a_grant_adds_only_what_its_kind_allows_to_the_role_it_is_for(
            role in any_role(),
            own in prop::option::of(0..4_i32),
            grant in any_grant(),
            resource in any_resource(),
            write in any::<bool>(),
        ) {
            let me = actor(role, 7, if role == Role::Patient { own } else { None });
            let action = if write { Action::Write } else { Action::Read };
            let by_role = can(&me, action, &resource);
            let with = can_with(&me, action, &resource, grant);
            // Never takes away.
            prop_assert!(!by_role || with);
            if with && !by_role {
                let grant = grant.expect("only a grant adds");
                prop_assert!(resource.patient().is_some(), "only a patient's record");
                match grant {
                    Grant::Care => {
                        prop_assert_eq!(role, Role::Staff);
                        prop_assert!(matches!(
                            (action, resource),
                            (Action::Read, Resource::PatientChart { .. })
                                | (_, Resource::PatientHistory { .. })
                                | (_, Resource::Messages { .. })
                        ), "care: read the chart, keep the history, write to the patient");
                    }
                    Grant::BreakGlass => {
                        prop_assert_eq!(role, Role::Admin);
                        prop_assert_eq!(action, Action::Read, "an emergency read writes nothing");
                        prop_assert!(matches!(
                            resource,
                            Resource::PatientProfile { .. }
                                | Resource::PatientChart { .. }
                                | Resource::PatientHistory { .. }
                        ), "an emergency read: the record only");
                    }
                }
            }
            // Nobody but the physician writes the clinical chart (notes), grant or not.
            if write && matches!(resource, Resource::PatientChart { .. }) {
                prop_assert_eq!(with, role == Role::Physician);
            }
            // And only the physician decides who else may open a chart; only the administrator
            // breaks the glass.
            // (the patient reads who was let into their own record).
            if let Resource::AccessGrants { patient_id } = resource {
                let own_look = !write && role == Role::Patient && own == Some(patient_id);
                prop_assert_eq!(with, role == Role::Physician || own_look);
            }
            if matches!(resource, Resource::EmergencyReads) {
                prop_assert_eq!(with, role == Role::Physician && !write);
            }
            if matches!(resource, Resource::EmergencyAccess { .. }) {
                prop_assert_eq!(with, role == Role::Admin && write);
            }
            // A record leaves the practice by share link only at the patient's own hand.
            if let Resource::ShareLinks { patient_id } = resource {
                prop_assert_eq!(with, role == Role::Patient && own == Some(patient_id));
            }
            // A patient's conversations: the patient, the physician, staff the physician let
            // in; never the administrator, not even in an emergency.
            if let Resource::Messages { patient_id } = resource {
                let expected = match role {
                    Role::Patient => own == Some(patient_id),
                    Role::Physician => true,
                    Role::Staff => grant == Some(Grant::Care),
                    Role::Admin => false,
                };
                prop_assert_eq!(with, expected);
            }
            if matches!(resource, Resource::Inbox) {
                prop_assert_eq!(with, !write && matches!(role, Role::Physician | Role::Staff));
            }
            if matches!(resource, Resource::Templates) {
                prop_assert_eq!(with, matches!(role, Role::Physician | Role::Staff));
            }
        }
    }

    #[test]
    fn a_staff_member_let_in_reads_the_chart_and_the_admin_in_an_emergency_reads_it_only() {
        let staff = actor(Role::Staff, 2, None);
        let admin = actor(Role::Admin, 3, None);
        let chart = Resource::PatientChart { patient_id: 3 };
        let history = Resource::PatientHistory { patient_id: 3 };
        assert!(!can(&staff, Action::Read, &chart));
        assert!(can_with(&staff, Action::Read, &chart, Some(Grant::Care)));
        assert!(can_with(&staff, Action::Write, &history, Some(Grant::Care)));
        assert!(!can_with(&staff, Action::Write, &chart, Some(Grant::Care)));
        assert!(!can_with(
            &staff,
            Action::Read,
            &chart,
            Some(Grant::BreakGlass)
        ));
        assert!(!can(&admin, Action::Read, &chart));
        assert!(can_with(
            &admin,
            Action::Read,
            &chart,
            Some(Grant::BreakGlass)
        ));
        assert!(!can_with(
            &admin,
            Action::Write,
            &history,
            Some(Grant::BreakGlass)
        ));
        assert!(!can_with(&admin, Action::Read, &chart, Some(Grant::Care)));
    }
}
