import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import { expect, Page, test } from "@playwright/test";
import { MARIA, PHYSICIAN, screenshot, signIn } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** A small real PNG (1x1, red). */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);

test("a patient adds a photo of her insurance card in place, a file that is not one is refused, and the physician downloads both her files", async ({ browser }) => {
  // The physician's second factor may wait for the next code, twice when other tests running
  // alongside signed her in with the current one.
  test.setTimeout(120_000);
  const context = await browser.newContext({ viewport: { width: 390, height: 900 }, acceptDownloads: true });
  const patient = await context.newPage();
  const errors: string[] = [];
  patient.on("console", (m) => {
    // The refused file is answered 415 on purpose; the browser logs that status.
    if (m.type() === "error" && !/status of 415/.test(m.text())) errors.push(m.text());
  });
  await signIn(patient, MARIA);
  await patient.locator("html[data-hydrated]").waitFor();
  await patient.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const documents = patient.getByRole("region", { name: "Documents" });
  // The demo's lab report is there, as the lab sent it.
  await expect(documents).toContainText("Complete blood count and ferritin");
  await expect(documents).toContainText("Lab result");

  // A file that only says it is an image is refused, and says what to do.
  await documents.getByText("Add a document").click();
  await documents.getByLabel("Kind").selectOption("insurance_card");
  await documents.getByLabel("File").setInputFiles({ name: "card.png", mimeType: "image/png", buffer: Buffer.from("not an image at all") });
  await documents.getByRole("button", { name: "Add the file" }).click();
  await expect(documents.getByRole("alert")).toContainText("not a PDF, JPEG or PNG");

  // The real photo goes in, in place: the list shows it, the form folds for the next one.
  await documents.getByLabel("Title (optional)").fill("Insurance card, front");
  await documents.getByLabel("File").setInputFiles({ name: "card.png", mimeType: "image/png", buffer: PNG });
  await documents.getByRole("button", { name: "Add the file" }).click();
  await expect(documents.getByRole("status")).toContainText("The file is added, encrypted.");
  await expect(documents.getByRole("link", { name: "Insurance card, front" })).toBeVisible();
  await expect(documents).toContainText("Insurance card · ");
  expect(await patient.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true)).toBe(true);
  await axeClean(patient);
  await screenshot(patient, "documents-patient-390");

  // Her lab report downloads as the PDF it is.
  const [report] = await Promise.all([
    patient.waitForEvent("download"),
    documents.getByRole("link", { name: "Complete blood count and ferritin" }).click(),
  ]);
  expect(report.suggestedFilename()).toBe("Complete blood count and ferritin.pdf");
  expect(fs.readFileSync(await report.path()).subarray(0, 5).toString()).toBe("%PDF-");
  // Her whole record as one PDF, and her files as a zip, from her visit notes.
  await patient.getByRole("link", { name: "Visit notes" }).first().click();
  const exporting = patient.getByRole("region", { name: "Download the record" });
  await expect(exporting.getByRole("checkbox", { name: /Visit note of/ }).first()).toBeChecked();
  const [record] = await Promise.all([
    patient.waitForEvent("download"),
    exporting.getByRole("button", { name: "Download PDF" }).click(),
  ]);
  expect(record.suggestedFilename()).toMatch(/^health-record-\d{4}-\d{2}-\d{2}\.pdf$/);
  expect(fs.readFileSync(await record.path()).subarray(0, 5).toString()).toBe("%PDF-");
  const [files] = await Promise.all([
    patient.waitForEvent("download"),
    exporting.getByRole("link", { name: "Download the original files (zip)" }).click(),
  ]);
  expect(fs.readFileSync(await files.path()).subarray(0, 2).toString()).toBe("PK");
  const [data] = await Promise.all([
    patient.waitForEvent("download"),
    exporting.getByRole("link", { name: "Download as FHIR data" }).click(),
  ]);
  const bundle = JSON.parse(fs.readFileSync(await data.path(), "utf8"));
  expect(bundle.resourceType).toBe("Bundle");
  expect(bundle.entry[0].resource.name[0].text).toBe("Maria Lopez");
  await axeClean(patient);
  await screenshot(patient, "record-export-390");
  expect(errors).toEqual([]);

  // The physician finds both on Maria's page and downloads the photo exactly.
  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
  await signIn(physician, PHYSICIAN);
  await physician.locator(".patient-list").getByRole("link", { name: "Maria Lopez" }).click();
  const hers = physician.getByRole("region", { name: "Documents" });
  await expect(hers).toContainText("Complete blood count and ferritin");
  await expect(hers).toContainText("Added by Maria Lopez");
  const [photo] = await Promise.all([
    physician.waitForEvent("download"),
    hers.getByRole("link", { name: "Insurance card, front" }).click(),
  ]);
  expect(photo.suggestedFilename()).toBe("Insurance card, front.png");
  expect(fs.readFileSync(await photo.path()).equals(PNG)).toBe(true);
  await axeClean(physician);
  await screenshot(physician, "documents-physician-1280");
});
