//! The export form: the parts of the record to put in one PDF (a plain GET form, so the file
//! downloads and the page stays), the link to the original files as a zip, and the record as
//! FHIR data for other health apps.

use leptos::prelude::*;

/// The record of `patient` (the dashboard), or of the signed-in patient (the portal), to
/// download: `notes` are the signed notes to choose from (their visit and its date).
#[component]
pub fn RecordExport(
    #[prop(optional)] patient: Option<String>,
    notes: Vec<(String, String)>,
) -> impl IntoView {
    let (pdf, zip, fhir) = match &patient {
        Some(id) => {
            let id = crate::ui::url_encode(id);
            (
                format!("/dashboard/patients/{id}/record.pdf"),
                format!("/dashboard/patients/{id}/documents.zip"),
                format!("/fhir/Patient/{id}/$everything"),
            )
        }
        None => (
            "/portal/record.pdf".to_owned(),
            "/portal/documents.zip".to_owned(),
            "/portal/my-data.json".to_owned(),
        ),
    };
    view! {
        <section class="card stack record-export" aria-labelledby="export-title">
            <h2 id="export-title">"Download the record"</h2>
            <form class="form" method="get" action=pdf>
                <input type="hidden" name="parts" value="1"/>
                <fieldset class="export-parts">
                    <legend>"Put in one PDF"</legend>
                    <label class="check"><input type="checkbox" name="chart" value="1" checked/>" The chart (allergies, problems, medications, immunizations, contacts, insurance)"</label>
                    {notes.into_iter().map(|(visit, when)| view! {
                        <label class="check"><input type="checkbox" name="note" value=visit checked/>{format!(" Visit note of {when}")}</label>
                    }).collect_view()}
                    <label class="check"><input type="checkbox" name="documents" value="1" checked/>" The list of documents"</label>
                </fieldset>
                <button class="button button-small" type="submit">"Download PDF"</button>
            </form>
            <p><a href=zip download="" rel="external">"Download the original files (zip)"</a></p>
            <p>
                <a href=fhir download="health-record.fhir.json" rel="external">"Download as FHIR data"</a>
                <br/><span class="fine-print">"The standard format other health apps and doctors' systems read (FHIR R4)."</span>
            </p>
        </section>
    }
}
