import { expect, test } from "@playwright/test";
import { PUBLIC_PAGES, screenshot } from "../support";

for (const { path, name, heading } of PUBLIC_PAGES) {
  test(`the ${name} page renders its content at 375 px and 1280 px`, async ({ page }) => {
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      const response = await page.goto(path);
      expect(response?.status()).toBe(200);
      await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
      await expect(page.getByRole("contentinfo")).toContainText("214 Harbor Street, Suite 3");
      await expect(page.getByRole("contentinfo")).toContainText("Office hours");
      // Nothing overflows sideways on a phone.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, `${name}-${width}`);
    }
  });
}

test("the home page introduces the physician and invites visitors to join", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Meet Dr. Elena Marsh" })).toBeVisible();
  await expect(page.getByRole("img", { name: "Portrait of Dr. Elena Marsh in a white coat" })).toBeVisible();
  await expect(page.getByText("American Board of Internal Medicine")).toBeVisible();
  await expect(page.getByText("years caring for patients")).toBeVisible();
  await page.getByRole("link", { name: "Compare memberships" }).first().click();
  await expect(page).toHaveURL(/\/memberships$/);
});

test("the memberships page compares every tier side by side", async ({ page }) => {
  await page.goto("/memberships");
  for (const tier of ["Essential", "Complete", "Family"]) {
    await expect(page.getByRole("heading", { level: 3, name: tier })).toBeVisible();
    await expect(page.getByRole("columnheader", { name: tier })).toBeVisible();
  }
  await expect(page.getByRole("rowheader", { name: "Monthly price" })).toBeVisible();
  await expect(page.getByRole("row", { name: /Monthly price/ })).toContainText("$129");
  await page.getByRole("link", { name: "Join Complete" }).click();
  await expect(page).toHaveURL(/\/join\?tier=complete$/);
  await expect(page.getByRole("heading", { name: "Join with the Complete membership" })).toBeVisible();
});

test("the menu works on a 320 px phone", async ({ page }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await page.goto("/");
  const menu = page.getByText("Menu", { exact: true });
  await expect(menu).toBeVisible();
  await menu.click();
  await page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name: "Services" }).click();
  await expect(page).toHaveURL(/\/services$/);
  await expect(page.getByRole("heading", { level: 2, name: "Home visits" })).toBeVisible();
});

test("an unknown address shows a helpful not-found page", async ({ page }) => {
  const response = await page.goto("/this/does/not/exist");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "We could not find that page" })).toBeVisible();
});
