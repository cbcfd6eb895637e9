import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { PUBLIC_PAGES } from "../support";

const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

for (const { path, name } of PUBLIC_PAGES) {
  for (const width of [375, 1280]) {
    test(`the ${name} page has no WCAG 2.1 A/AA violations at ${width} px`, async ({ page }) => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(path);
      const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
      expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
    });
  }
}

test("the contact form with errors has no WCAG 2.1 A/AA violations", async ({ page }) => {
  await page.goto("/contact");
  await page.getByLabel("Your name").fill("Ann");
  await page.getByLabel("Email address").fill("ann@example.com");
  await page.getByLabel("What is it about?").selectOption("other");
  await page.getByLabel("Your message").fill("short");
  await page.getByRole("button", { name: "Send message" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});
