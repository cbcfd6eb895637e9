import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { MARIA, screenshot, signIn } from "../support";

test("a patient books an office visit and sees it in her visits", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 900 });
  await signIn(page, MARIA);
  await page.getByRole("link", { name: "Book a visit" }).first().click();
  await expect(page.getByRole("heading", { name: "Book a visit" })).toBeVisible();
  await expect(page.getByText("Times are in Eastern Time.")).toBeVisible();
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // The first free time, chosen by its label as a screen reader hears it.
  const radio = page.getByRole("radio").first();
  const label = (await page.locator(".slot label").first().innerText()).split("\n")[0].trim();
  await radio.check();
  await page.getByLabel("What is the visit about?").fill("Annual physical");
  await screenshot(page, "book-visit-390");
  await page.getByRole("button", { name: "Book this visit" }).click();
  await expect(page).toHaveURL(/\/portal\/visits\?booked=1$/);
  await expect(page.getByRole("status")).toContainText("Your visit is booked");
  await expect(page.getByText(new RegExp(`at ${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`))).toBeVisible();
  await screenshot(page, "my-visits-390");
});
