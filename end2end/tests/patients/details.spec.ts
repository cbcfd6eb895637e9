import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { JAMES, screenshot, signIn } from "../support";

test("a patient keeps their details current in place, and a wrong phone is said under its field", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 900 });
  await signIn(page, JAMES);
  await expect(page.getByRole("heading", { name: "Hello, James" })).toBeVisible();
  await page.locator("html[data-hydrated]").waitFor();
  // The save runs in place: a mark on the window would be lost by any document load.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const details = page.getByRole("region", { name: "My details" });
  await details.getByLabel("Preferred name").fill("James");
  await details.getByLabel("Phone").fill("(207) 555-0177");
  await details.getByRole("button", { name: "Save my details" }).click();
  await expect(details.getByRole("status")).toHaveText("Your details are saved.");
  // The record is read again: the form shows what is stored now.
  await expect(details.getByLabel("Phone")).toHaveValue("(207) 555-0177");
  await expect(details.getByLabel("Preferred name")).toHaveValue("James");

  await details.getByLabel("Phone").fill("call me at home");
  await details.getByRole("button", { name: "Save my details" }).click();
  const phone = details.getByLabel("Phone");
  await expect(phone).toHaveAttribute("aria-invalid", "true");
  await expect(details.getByRole("alert")).toContainText("A phone number may contain only digits");
  await expect(phone).toHaveValue("call me at home");
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true)).toBe(true);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await screenshot(page, "my-details-390");
});
