//! `/shl/{secret}/view`: a shared record for someone without a SMART Health Links app, in any
//! browser, rendered on the server (no script). The server's handlers (`server/src/records/
//! share.rs`) decide what it shows and put it in the context: the form (who is asking, and the
//! passcode), the record, or why the link opens nothing (410). Looking at the address opens
//! nothing; only sending the form does, and that is kept and shown to the patient.

use super::model::{LinkEnded, SharedRecord, SharedView, ViewerAsk, VIEWING_MINUTES};
use crate::records::model::ChartSection;
use crate::records::notes::model::NoteBody;
use crate::ui::{described_by, field, invalid};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

#[component]
pub fn SharedRecordPage() -> impl IntoView {
    let view = use_context::<SharedView>().unwrap_or(SharedView::Unknown);
    view! {
        <Meta name="robots" content="noindex, nofollow"/>
        <section class="section container narrow stack shared-record">
            {match view {
                SharedView::Unknown => view! { <Unknown/> }.into_any(),
                SharedView::Ended(why) => view! { <Ended why/> }.into_any(),
                SharedView::Ask(ask) => view! { <Ask ask/> }.into_any(),
                SharedView::Record(record) => view! { <Record record=*record/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Unknown() -> impl IntoView {
    view! {
        <Title text="Link not found"/>
        <h1>"This link does not open anything"</h1>
        <p class="lead">"Check that the whole link was copied: it is long, and a missing character breaks it. If it still does not open, ask the person who shared it to make a new one."</p>
    }
}

#[component]
fn Ended(why: LinkEnded) -> impl IntoView {
    view! {
        <Title text="This link has ended"/>
        <h1>"This link has ended"</h1>
        <p class="lead">{why.message()}</p>
        <p>"Nothing from the record is shown. If you still need it, ask the person who shared it for a new link."</p>
    }
}

#[component]
fn Ask(ask: ViewerAsk) -> impl IntoView {
    let ViewerAsk {
        label,
        passcode,
        expires,
        recipient,
        errors,
        remaining,
    } = ask;
    let count = errors.len();
    view! {
        <Title text="A shared health record"/>
        <p class="eyebrow">"Shared health record"</p>
        <h1>{label}</h1>
        <p class="lead">{format!("Someone shared parts of their health record with you. This link stays open until {expires}.")}</p>
        {(count > 0).then(|| view! {
            <div class="notice notice-error" role="alert">
                <p>{if count == 1 { "Please correct the field marked below.".to_owned() } else { format!("Please correct the {count} fields marked below.") }}</p>
                {remaining.map(|n| view! { <p>{match n {
                    0 => "The link is now locked.".to_owned(),
                    1 => "The link locks after 1 more wrong passcode.".to_owned(),
                    n => format!("The link locks after {n} more wrong passcodes."),
                }}</p> })}
            </div>
        })}
        <form class="form card" method="post">
            {field(&errors, "recipient", "Your name", view! {
                <input id="recipient" name="recipient" type="text" required maxlength="200" autocomplete="name"
                    value=recipient aria-invalid=invalid(&errors, "recipient")
                    aria-describedby=described_by(&errors, "recipient").unwrap_or_else(|| "recipient-help".to_owned())/>
            })}
            <p class="fine-print" id="recipient-help">"The person who shared this sees who opened it, when, and from where."</p>
            {passcode.then(|| field(&errors, "passcode", "Passcode", view! {
                <input id="passcode" name="passcode" type="password" required autocomplete="off"
                    aria-invalid=invalid(&errors, "passcode") aria-describedby=described_by(&errors, "passcode")/>
            }))}
            <button class="button" type="submit">"Open the record"</button>
        </form>
    }
}

#[component]
fn Record(record: SharedRecord) -> impl IntoView {
    let SharedRecord {
        label,
        patient_name,
        born,
        expires,
        chart,
        notes,
        documents,
        files_at,
        viewing,
    } = record;
    view! {
        <Title text=format!("Health record of {patient_name}")/>
        <p class="eyebrow">{format!("Shared health record · {label}")}</p>
        <h1>{patient_name.clone()}</h1>
        <p class="lead">{format!("Date of birth: {born}")}</p>
        <p class="shared-banner fine-print">{format!(
            "Shared by the patient through this link, open until {expires}. Your visit was recorded and the patient can see it. Do not forward the link."
        )}</p>
        {chart.map(|entries| view! {
            <section class="stack" aria-labelledby="shared-chart">
                <h2 id="shared-chart">"Chart"</h2>
                {ChartSection::ALL.iter().map(|section| {
                    let items: Vec<_> = entries.iter().filter(|e| e.item.section() == *section).cloned().collect();
                    view! {
                        <h3>{section.title()}</h3>
                        {if items.is_empty() {
                            view! { <p class="fine-print">{match section { ChartSection::Allergy => "No known allergies recorded.", _ => "Nothing recorded." }}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="chart-list">
                                    {items.into_iter().map(|e| {
                                        let details = e.item.details();
                                        view! { <li><strong>{e.item.headline()}</strong>{(!details.is_empty()).then(|| format!(" — {details}"))}</li> }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    }
                }).collect_view()}
            </section>
        })}
        {notes.map(|notes| view! {
            <section class="stack" aria-labelledby="shared-notes">
                <h2 id="shared-notes">"Visit notes"</h2>
                {if notes.is_empty() { Some(view! { <p>"No signed visit notes."</p> }) } else { None }}
                {notes.into_iter().filter_map(|filed| {
                    let when = filed.visit.when.clone();
                    let kind = filed.visit.visit_type.label();
                    let note = filed.note;
                    let NoteBody::Signed(content) = note.body else { return None };
                    Some(view! {
                        <article class="stack filed-note" aria-label=format!("Visit on {when}")>
                            <h3>{when.clone()}" · "{kind}</h3>
                            <crate::records::notes::NoteText content signed=note.signed/>
                            <crate::records::notes::Addenda addenda=note.addenda/>
                        </article>
                    })
                }).collect_view()}
            </section>
        })}
        {documents.map(|documents| view! {
            <section class="stack" aria-labelledby="shared-documents">
                <h2 id="shared-documents">"Documents"</h2>
                <p class="fine-print">{format!(
                    "Download a file within {VIEWING_MINUTES} minutes of opening the record (after that, open the record again). Each download is recorded, and the patient sees it."
                )}</p>
                {if documents.is_empty() {
                    view! { <p>"No documents."</p> }.into_any()
                } else {
                    view! {
                        <ul class="chart-list">
                            {documents.into_iter().map(|d| view! {
                                <li class="shared-file">
                                    <span>
                                        <strong>{d.title.clone()}</strong>
                                        {format!(" — {}, {} · {}", d.kind.label(), d.date.format("%B %-d, %Y"), d.size_and_type())}
                                    </span>
                                    <form class="inline-form" method="post" action=format!("{files_at}{}", d.public_id)>
                                        <input type="hidden" name="viewing" value=viewing.clone()/>
                                        <button class="button button-small button-quiet" type="submit">
                                            "Download"<span class="visually-hidden">{format!(": {}", d.title)}</span>
                                        </button>
                                    </form>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        })}
    }
}
