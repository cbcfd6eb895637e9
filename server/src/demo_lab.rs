//! The demo patients' lab reports: a real PDF each (text, not a picture), filed in their
//! documents as an outside laboratory's result would be, so the record, its downloads and its
//! exports have a file to show.

use app::pdf_text::Letter;
use chrono::NaiveDate;
use printpdf::Mm;

/// One result line: test, value, units, reference range, flag.
type Result5 = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The report's title and its results, for the demo patient called `name`.
fn results_of(name: &str) -> Option<(&'static str, Vec<Result5>)> {
    match name {
        "James Okafor" => Some((
            "Diabetes and lipid panel",
            vec![
                ("Hemoglobin A1c", "7.1", "%", "4.0-5.6", "H"),
                ("Glucose, fasting", "138", "mg/dL", "70-99", "H"),
                ("Cholesterol, total", "168", "mg/dL", "<200", ""),
                ("LDL cholesterol", "92", "mg/dL", "<100", ""),
                ("HDL cholesterol", "44", "mg/dL", ">39", ""),
                ("Triglycerides", "168", "mg/dL", "<150", "H"),
                ("Creatinine", "1.1", "mg/dL", "0.7-1.3", ""),
                ("eGFR", "68", "mL/min/1.73m2", ">59", ""),
                ("Potassium", "4.6", "mmol/L", "3.5-5.1", ""),
                ("Urine albumin/creatinine", "22", "mg/g", "<30", ""),
            ],
        )),
        "Maria Lopez" => Some((
            "Complete blood count and ferritin",
            vec![
                ("White blood cells", "6.4", "x10^3/uL", "4.0-11.0", ""),
                ("Hemoglobin", "13.2", "g/dL", "12.0-15.5", ""),
                ("Hematocrit", "39.8", "%", "36-46", ""),
                ("MCV", "88", "fL", "80-100", ""),
                ("Platelets", "262", "x10^3/uL", "150-400", ""),
                ("Ferritin", "48", "ng/mL", "15-150", ""),
                ("TSH", "1.9", "mIU/L", "0.4-4.0", ""),
            ],
        )),
        _ => None,
    }
}

/// The lab report of demo patient `name` (born `born`), collected on `collected`: its title and
/// PDF bytes.
pub fn report_of(
    name: &str,
    born: &str,
    collected: NaiveDate,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let Some((title, results)) = results_of(name) else {
        return Ok(None);
    };
    let letter = Letter::new(&format!("{title}, {name}"), "Report").map_err(anyhow::Error::msg)?;
    let Letter {
        pdf,
        first: page,
        regular,
        bold,
    } = letter;
    let mut y = 262.0;
    let mut line = |text: &str, size: f32, bold_face: bool, x: f32, step: f32| {
        let font = if bold_face { &bold } else { &regular };
        page.use_text(text, size, Mm(x), Mm(y), font);
        y -= step;
    };
    line("Casco Bay Laboratories", 16.0, true, 20.0, 6.0);
    line(
        "120 Commercial Street, Portland, ME 04101 - CLIA 20D0000000",
        9.0,
        false,
        20.0,
        10.0,
    );
    line(title, 14.0, true, 20.0, 8.0);
    line(
        &format!("Patient: {name}    Date of birth: {born}"),
        10.0,
        false,
        20.0,
        5.0,
    );
    line(
        &format!(
            "Collected: {}    Ordering physician: Elena Marsh, MD",
            collected.format("%B %-d, %Y")
        ),
        10.0,
        false,
        20.0,
        10.0,
    );
    let columns = [20.0, 82.0, 104.0, 140.0, 172.0];
    let header = ["Test", "Result", "Units", "Reference range", "Flag"];
    for (x, text) in columns.iter().zip(header) {
        page.use_text(text, 10.0, Mm(*x), Mm(y), &bold);
    }
    y -= 6.0;
    for (test, value, units, range, flag) in results {
        for (x, text) in columns.iter().zip([test, value, units, range, flag]) {
            page.use_text(text, 10.0, Mm(*x), Mm(y), &regular);
        }
        y -= 5.5;
    }
    y -= 6.0;
    page.use_text(
        "H: above the reference range. Results reviewed by the ordering physician.",
        9.0,
        Mm(20.0),
        Mm(y),
        &regular,
    );
    let bytes = pdf.save_to_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some((title.to_owned(), bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_demo_patient_has_a_lab_report_and_others_none() {
        let collected = NaiveDate::from_ymd_opt(2026, 6, 3).expect("a date");
        let (title, bytes) = report_of("James Okafor", "1957-09-30", collected)
            .expect("renders")
            .expect("James has one");
        assert_eq!(title, "Diabetes and lipid panel");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(report_of("Maria Lopez", "1984-03-12", collected)
            .expect("renders")
            .is_some());
        assert!(report_of("Someone Else", "1990-01-01", collected)
            .expect("renders")
            .is_none());
    }
}
