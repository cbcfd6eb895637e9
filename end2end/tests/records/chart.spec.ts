import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { MARIA, PHYSICIAN, screenshot, signIn } from "../support";

test("a patient adds an allergy in place; the physician sees it first on the chart, changes it, and its history says who", async ({ browser }) => {
  // The physician's second factor may wait for the next code (another test used this one).
  test.setTimeout(75_000);
  // Maria, on a phone: her chart is under her details, allergies first.
  const patient = await (await browser.newContext({ viewport: { width: 390, height: 900 } })).newPage();
  await signIn(patient, MARIA);
  await patient.locator("html[data-hydrated]").waitFor();
  await patient.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const allergies = patient.getByRole("region", { name: "Allergies" });
  await expect(allergies).toContainText("Penicillin");
  await allergies.getByText("Add an allergy").click();
  const substance = allergies.getByLabel("Allergic to").last();
  await substance.fill("Latex");
  await allergies.getByLabel("Reaction (optional)").last().fill("Itching rash");
  await allergies.getByLabel("Severity").last().selectOption("moderate");
  await allergies.getByRole("button", { name: "Add", exact: true }).click();
  await expect(patient.getByRole("status").filter({ hasText: "The chart is saved." })).toBeVisible();
  await expect(allergies).toContainText("Latex · Moderate · Itching rash");
  // The add form folds again, empty, for the next one.
  await expect(allergies.locator("details.chart-add")).not.toHaveAttribute("open");
  await expect(allergies.locator("details.chart-add").getByLabel("Allergic to")).toHaveValue("");
  expect(await patient.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true)).toBe(true);
  const results = await new AxeBuilder({ page: patient }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await screenshot(patient, "chart-patient-390");

  // The physician opens Maria's chart from the dashboard.
  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(physician, PHYSICIAN);
  await physician.locator(".patient-list").getByRole("link", { name: "Maria Lopez" }).click();
  const chart = physician.getByRole("region", { name: "Allergies" });
  await expect(chart).toContainText("Latex");
  // Beside the chart: her next visit, her membership and her signed notes.
  const side = physician.getByRole("complementary", { name: "Visits and membership" });
  await expect(side.getByRole("region", { name: "Upcoming visits" })).toContainText("Headache diary review");
  await expect(side.getByRole("region", { name: "Membership" })).toContainText("Complete · Active");
  await expect(side.getByRole("region", { name: "Visit notes" })).toContainText("Signed");
  await expect(chart).toContainText("Updated by Maria Lopez");
  await physician.locator("html[data-hydrated]").waitFor();
  const latex = chart.getByRole("listitem").filter({ hasText: "Latex" });
  await latex.locator("summary", { hasText: "Change" }).click();
  await latex.getByLabel("Severity").selectOption("severe");
  await latex.getByRole("button", { name: "Save the change" }).click();
  await expect(chart).toContainText("Latex · Severe");
  await expect(chart).toContainText("Updated by Dr. Elena Marsh");
  await chart.getByRole("link", { name: "History of Latex" }).click();
  const history = physician.getByRole("list", { name: "History, newest first" });
  await expect(history.getByRole("listitem")).toHaveCount(2);
  await expect(history.getByRole("listitem").first()).toContainText("Changed by Dr. Elena Marsh");
  await expect(history.getByRole("listitem").last()).toContainText("Added by Maria Lopez");
  await screenshot(physician, "chart-physician-1280");

  // Maria's page still shows version 1 of it: her change now is refused, nothing written over.
  const mine = patient.getByRole("region", { name: "Allergies" }).getByRole("listitem").filter({ hasText: "Latex" });
  await mine.locator("summary", { hasText: "Change" }).click();
  await mine.getByLabel("Severity").selectOption("mild");
  await mine.getByRole("button", { name: "Save the change" }).click();
  await expect(patient.getByRole("alert").filter({ hasText: "changed by someone else" })).toBeVisible();
  await patient.reload();
  await expect(patient.getByRole("region", { name: "Allergies" })).toContainText("Latex · Severe");
});
