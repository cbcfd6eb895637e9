//! The note form on `/dashboard/visits/:id/note`: subjective, objective, assessment, plan,
//! prescriptions and the follow-up, saved as a draft as the physician types (a second and a half
//! after the last keystroke, again while the connection is down, and once more when the tab is
//! closed or left), and signed with one button. Without JavaScript the same form posts its
//! *Save draft* and *Sign* buttons.

use super::api::SaveVisitNote;
use super::model::{prescription_field, NoteDraft, NoteSaved, PrescriptionForm};
use super::refusal::NoteRefusal;
use crate::appointments::service_messages::FOLLOW_UP_WEEKS;
use crate::{AppError, FieldErrors, Refusal};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Where the draft stands, as the status line says it.
#[derive(Debug, Clone, PartialEq)]
enum Draft {
    /// Nothing typed since it was loaded or saved.
    Saved(Option<String>),
    /// Typed, not saved yet.
    Unsaved,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Saving,
    /// The save failed (connection, server): what was typed stays, and it is tried again.
    Retrying,
    /// A field does not fit (too long): saved again once it is changed.
    Invalid(String),
    /// Saved from another window, or signed meanwhile: saving stops here.
    Stopped(String),
}

/// What a plain form post's address says happened (`saved=1`, `fix=assessment,plan`,
/// `refused=note.changed_meanwhile`): the fields to fix and a sentence.
fn from_address(get: impl Fn(&str) -> Option<String>) -> (FieldErrors, Option<(bool, String)>) {
    let mut errors = FieldErrors::default();
    if let Some(fields) = get("fix") {
        for field in fields.split(',').filter(|f| !f.is_empty()) {
            errors.add(field, "Please check this field.");
        }
    }
    let saved = get("saved").is_some();
    let said = if let Some(code) = get("refused") {
        Some((false, refusal_text(&code)))
    } else if !errors.is_empty() {
        Some((
            false,
            if saved {
                "The draft is saved, but not signed yet: please complete the fields marked below."
            } else {
                "Nothing was saved: please check the fields marked below."
            }
            .to_owned(),
        ))
    } else if saved {
        Some((true, "The draft is saved.".to_owned()))
    } else if get("error").is_some() {
        Some((
            false,
            "The note could not be saved. Please try again.".to_owned(),
        ))
    } else {
        None
    };
    (errors, said)
}

/// The sentence for a refusal's code.
fn refusal_text(code: &str) -> String {
    if let Some(note) = code.strip_prefix("note.").and_then(NoteRefusal::from_code) {
        return note.message().to_owned();
    }
    if let Some(visit) = code
        .strip_prefix("visit.")
        .and_then(crate::appointments::VisitRefusal::from_code)
    {
        return match visit {
            crate::appointments::VisitRefusal::NotStarted => {
                "The draft is saved. It can be signed once the visit has started.".to_owned()
            }
            other => other.message(),
        };
    }
    "The note could not be saved. Please try again.".to_owned()
}

/// What an answer that did not save says, and whether saving stops.
fn failed(error: &AppError) -> (Draft, Option<FieldErrors>) {
    match error {
        AppError::Validation(errors) => (
            Draft::Invalid("Not saved: please check the fields marked below.".into()),
            Some(errors.clone()),
        ),
        AppError::Refused(Refusal::Note(refusal)) => {
            (Draft::Stopped(refusal.message().to_owned()), None)
        }
        AppError::Unauthorized => (
            Draft::Stopped(
                "Not saved: you are signed out. Sign in again in another tab, then press Save draft: what you typed is still here."
                    .into(),
            ),
            None,
        ),
        _ => (Draft::Retrying, None),
    }
}

/// The note form of visit `visit`, from `draft` at `version` (empty for a new note). `signed`
/// is called once the note is signed (the page then shows it as filed).
#[component]
pub fn NoteForm(
    visit: String,
    draft: NoteDraft,
    version: Option<i32>,
    saved_at: Option<String>,
    #[prop(into)] on_signed: Callback<()>,
) -> impl IntoView {
    let save = ServerAction::<SaveVisitNote>::new();
    let form = NodeRef::<leptos::html::Form>::new();
    let query = use_query_map();
    let (address_errors, address_said) = query.with_untracked(|q| from_address(|k| q.get(k)));
    let version = RwSignal::new(version.map(|v| v.to_string()).unwrap_or_default());
    let state = RwSignal::new(Draft::Saved(saved_at));
    let errors = RwSignal::new(address_errors);
    let said = RwSignal::new(address_said);
    // Keystrokes so far, and how many the last save (sent, and confirmed) held.
    let edits = RwSignal::new(0_u64);
    let sent = StoredValue::new(0_u64);
    let confirmed = StoredValue::new(0_u64);
    let autosave = move || {
        // A timer may fire after the page was left: everything here went with it.
        if edits.try_get_untracked().is_none() {
            return;
        }
        let idle = !save.pending().get_untracked()
            && !matches!(state.get_untracked(), Draft::Stopped(_))
            && edits.get_untracked() != confirmed.get_value();
        #[cfg(not(feature = "hydrate"))]
        let _ = (idle, form, sent);
        #[cfg(feature = "hydrate")]
        if let Some(args) = idle
            .then(|| form.get_untracked().and_then(|f| form_args(&f)))
            .flatten()
        {
            sent.set_value(edits.get_untracked());
            state.set(Draft::Saving);
            save.dispatch(args);
        }
    };
    let later = move |millis: u64| {
        set_timeout(autosave, std::time::Duration::from_millis(millis));
    };
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        match result {
            Ok(NoteSaved {
                version: now,
                signed,
                not_signed,
                time,
                ..
            }) => {
                version.set(now.to_string());
                confirmed.set_value(sent.get_value());
                if signed {
                    on_signed.run(());
                    return;
                }
                state.set(Draft::Saved(Some(time)));
                match not_signed {
                    Some(AppError::Validation(fix)) => {
                        errors.set(fix);
                        said.set(Some((false, "The draft is saved, but not signed yet: please complete the fields marked below.".into())));
                    }
                    Some(AppError::Refused(refusal)) => {
                        errors.set(FieldErrors::default());
                        said.set(Some((false, refusal_text(&refusal.code()))));
                    }
                    _ => {
                        errors.set(FieldErrors::default());
                        if sent.get_value() == edits.get_untracked() {
                            said.set(None);
                        }
                    }
                }
                if edits.get_untracked() != confirmed.get_value() {
                    later(300);
                }
            }
            Err(error) => {
                let (next, fix) = failed(&error);
                if let Some(fix) = fix {
                    errors.set(fix);
                }
                let retry = next == Draft::Retrying;
                state.set(next);
                if retry {
                    later(5_000);
                }
            }
        }
    });
    #[cfg(feature = "hydrate")]
    flush_when_left(form, edits, confirmed, autosave);
    let on_input = move |_| {
        edits.update(|n| *n += 1);
        if !matches!(state.get_untracked(), Draft::Stopped(_)) {
            state.set(Draft::Unsaved);
        }
        let at = edits.get_untracked();
        set_timeout(
            move || {
                // Only the last keystroke's timer saves (and none once the page is gone).
                if edits.try_get_untracked() == Some(at) {
                    autosave();
                }
            },
            std::time::Duration::from_millis(1_500),
        );
    };
    let rows = RwSignal::new(
        draft
            .prescriptions
            .iter()
            .cloned()
            .chain(std::iter::once(PrescriptionForm::default()))
            .enumerate()
            .collect::<Vec<_>>(),
    );
    let next_row = StoredValue::new(rows.with_untracked(Vec::len));
    let add_row = move |_| {
        let key = next_row.get_value();
        next_row.set_value(key + 1);
        rows.update(|r| r.push((key, PrescriptionForm::default())));
    };
    let status = move || {
        match state.get() {
        Draft::Saved(Some(at)) => format!("Draft saved at {at}."),
        Draft::Saved(None) => "Not saved yet: the draft is saved as you type.".to_owned(),
        Draft::Unsaved => "Unsaved changes…".to_owned(),
        Draft::Saving => "Saving…".to_owned(),
        Draft::Retrying => {
            "Not saved yet: the connection dropped. What you typed is still here, and saving is tried again every few seconds.".to_owned()
        }
        Draft::Invalid(why) | Draft::Stopped(why) => why,
    }
    };
    let part = move |name: &'static str, label: &'static str, hint: &'static str, value: String| {
        let field = format!("note[{name}]");
        let id = format!("note-{name}");
        let error_id = format!("{id}-error");
        let described = error_id.clone();
        view! {
            <div class="field" class:field-invalid=move || errors.with(|e| e.get(name).is_some())>
                <label for=id.clone()>{label}</label>
                <p class="fine-print">{hint}</p>
                <textarea id=id name=field rows="5" maxlength="20000"
                    aria-invalid=move || errors.with(|e| e.get(name).map(|_| "true"))
                    aria-describedby=move || errors.with(|e| e.get(name).map(|_| described.clone()))>{value}</textarea>
                {move || errors.with(|e| e.get(name).map(|m| view! { <p class="field-error" id=error_id.clone()>{m.to_owned()}</p> }))}
            </div>
        }
    };
    let follow_up = draft.follow_up_weeks.clone();
    view! {
        {move || said.get().map(|(ok, text)| if ok {
            view! { <div class="notice notice-success" role="status"><p>{text}</p></div> }.into_any()
        } else {
            view! { <div class="notice notice-error" role="alert"><p>{text}</p></div> }.into_any()
        })}
        <ActionForm action=save node_ref=form attr:class="form note-form" on:input=on_input>
            <input type="hidden" name="visit" value=visit/>
            <input type="hidden" name="version" prop:value=move || version.get()/>
            {part("subjective", "Subjective", "What the patient tells you: the reason for the visit, symptoms, history.", draft.subjective.clone())}
            {part("objective", "Objective", "Examination, vital signs, results.", draft.objective.clone())}
            {part("assessment", "Assessment", "What you conclude. Needed to sign.", draft.assessment.clone())}
            {part("plan", "Plan", "What happens next: treatment, tests, advice. Needed to sign.", draft.plan.clone())}
            <fieldset class="prescriptions">
                <legend>"Prescriptions"</legend>
                <p class="fine-print">"Leave a row empty to write none. Refills: 0 to 11."</p>
                {move || errors.with(|e| e.get("prescriptions").map(|m| view! { <p class="field-error">{m.to_owned()}</p> }))}
                <For each=move || rows.get() key=|(index, _)| *index
                    children=move |(index, row)| view! { <PrescriptionRow index row errors rows/> }/>
                <button type="button" class="button button-small button-quiet" on:click=add_row>"Add another prescription"</button>
            </fieldset>
            <div class="field" class:field-invalid=move || errors.with(|e| e.get("follow_up_weeks").is_some())>
                <label for="note-follow-up">"Follow-up"</label>
                <select id="note-follow-up" name="note[follow_up_weeks]">
                    <option value="" selected=follow_up.is_empty()>"No follow-up needed"</option>
                    {FOLLOW_UP_WEEKS.iter().map(|w| {
                        let value = w.to_string();
                        let selected = value == follow_up;
                        view! { <option value=value selected=selected>{super::model::follow_up_label(Some(*w))}</option> }
                    }).collect_view()}
                </select>
                <p class="fine-print">"On signing, the patient is emailed a link that books the first free time then."</p>
            </div>
            <p class="note-status" role="status" aria-live="polite">{status}</p>
            <div class="note-actions">
                // Not while a save is on its way: a second save from the same version would be
                // refused as if from another window.
                <button class="button button-quiet" type="submit" disabled=move || save.pending().get()>"Save draft"</button>
                <button class="button" type="submit" name="sign" value="1" disabled=move || save.pending().get()>"Sign and complete the visit"</button>
            </div>
            <p class="fine-print">"Signing files the note in the patient's record and completes the visit. A signed note no longer changes: corrections are added as addenda."</p>
        </ActionForm>
    }
}

/// One prescription row: drug, strength, directions, quantity, refills.
#[component]
fn PrescriptionRow(
    index: usize,
    row: PrescriptionForm,
    errors: RwSignal<FieldErrors>,
    rows: RwSignal<Vec<(usize, PrescriptionForm)>>,
) -> impl IntoView {
    // The form posts rows by their key (`note[prescriptions][3][drug]`), so a removed row
    // leaves no gap that shifts the others; the errors name rows by their place, which is the
    // key for the rows the page started with.
    let input = move |part: &'static str, label: &'static str, value: String| {
        let id = format!("rx-{index}-{part}");
        let error_key = prescription_field(index, part);
        let shown = error_key.clone();
        let error_id = format!("{id}-error");
        let described = error_id.clone();
        let numeric = matches!(part, "quantity" | "refills").then_some("numeric");
        view! {
            <div class="field" class:field-invalid=move || errors.with(|e| e.get(&error_key).is_some())>
                <label for=id.clone()>{label}</label>
                <input id=id type="text" name=format!("note[prescriptions][{index}][{part}]") value=value
                    inputmode=numeric autocomplete="off"
                    aria-describedby=move || errors.with(|e| e.get(&shown).map(|_| described.clone()))/>
                {
                    let key = prescription_field(index, part);
                    move || errors.with(|e| e.get(&key).map(|m| view! { <p class="field-error" id=error_id.clone()>{m.to_owned()}</p> }))
                }
            </div>
        }
    };
    let remove = move |_| rows.update(|r| r.retain(|(k, _)| *k != index));
    view! {
        <div class="prescription-row" role="group" aria-label=format!("Prescription {}", index + 1)>
            {input("drug", "Drug", row.drug)}
            {input("strength", "Strength", row.strength)}
            {input("quantity", "Quantity", row.quantity)}
            {input("refills", "Refills", row.refills)}
            {input("directions", "Directions", row.directions)}
            <button type="button" class="button button-small button-quiet" on:click=remove>
                "Remove"<span class="visually-hidden">{format!(" prescription {}", index + 1)}</span>
            </button>
        </div>
    }
}

/// The form's fields as the server function's arguments (no submit button: a save, never a
/// signature).
#[cfg(feature = "hydrate")]
fn form_args(form: &web_sys::HtmlFormElement) -> Option<SaveVisitNote> {
    use leptos::form::FromFormData;
    let data = web_sys::FormData::new_with_form(form).ok()?;
    SaveVisitNote::from_form_data(&data).ok()
}

/// Saves what was typed and not saved when the tab is hidden, and sends it when the tab is
/// closed or the page left in the app: `sendBeacon` outlives the page, so a closed tab loses
/// nothing.
#[cfg(feature = "hydrate")]
fn flush_when_left(
    form: NodeRef<leptos::html::Form>,
    edits: RwSignal<u64>,
    confirmed: StoredValue<u64>,
    autosave: impl Fn() + Copy + 'static,
) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let flush = move || {
        if edits.try_get_untracked().unwrap_or(0) == confirmed.try_get_value().unwrap_or(0) {
            return;
        }
        let Some(form) = form.try_get_untracked().flatten() else {
            return;
        };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let Ok(body) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return;
        };
        let path = <SaveVisitNote as leptos::server_fn::ServerFn>::PATH;
        if let Some(window) = web_sys::window() {
            let _ = window
                .navigator()
                .send_beacon_with_opt_url_search_params(path, Some(&body));
        }
    };
    // Hidden (another tab, the phone locked): the page lives on, so an ordinary save, whose
    // answer keeps the form's version current. Gone: the beacon.
    let on_hide = Closure::<dyn FnMut()>::new(move || {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
        if hidden {
            autosave();
        }
    });
    let on_pagehide = Closure::<dyn FnMut()>::new(flush);
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        let _ = document
            .add_event_listener_with_callback("visibilitychange", on_hide.as_ref().unchecked_ref());
    }
    if let Some(window) = web_sys::window() {
        let _ = window
            .add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
    }
    let listeners = StoredValue::new_local(Some((on_hide, on_pagehide)));
    on_cleanup(move || {
        flush();
        if let Some((on_hide, on_pagehide)) = listeners.try_update_value(Option::take).flatten() {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                let _ = document.remove_event_listener_with_callback(
                    "visibilitychange",
                    on_hide.as_ref().unchecked_ref(),
                );
            }
            if let Some(window) = web_sys::window() {
                let _ = window.remove_event_listener_with_callback(
                    "pagehide",
                    on_pagehide.as_ref().unchecked_ref(),
                );
            }
        }
    });
}
