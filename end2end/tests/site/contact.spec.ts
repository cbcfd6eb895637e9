import { expect, test } from "@playwright/test";
import { outbox, screenshot, uniqueEmail } from "../support";

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? "with JavaScript" : "without JavaScript";

  test.describe(`the contact form ${mode}`, () => {
    test.use({ javaScriptEnabled });

    test("sends a message, and the visitor and the practice are emailed", async ({ page }) => {
      const email = uniqueEmail(javaScriptEnabled ? "js" : "nojs");
      await page.goto("/contact");
      await page.getByLabel("Your name").fill("Ann Lee");
      await page.getByLabel("Email address").fill(email);
      await page.getByLabel("Phone (optional)").fill("(207) 555-0199");
      await page.getByLabel("What is it about?").selectOption("visit");
      await page.getByLabel("Your message").fill("Can I book a first visit next week?");
      await page.getByRole("button", { name: "Send message" }).click();
      await expect(page.getByRole("status")).toContainText("Thank you, your message has been sent.");
      await expect(page).toHaveURL(/\/contact\?sent=1$/);
      await expect.poll(() => outbox(20)).toContain(`to ${email}`);
      const mail = outbox(20);
      expect(mail).toContain("We received your message — Harbor Street Medicine");
      expect(mail).toContain(`reply-to ${email}`);
    });

    test("shows what to fix and keeps what was typed", async ({ page }, testInfo) => {
      await page.goto("/contact");
      await page.getByLabel("Your name").fill("Ann Lee");
      await page.getByLabel("Email address").fill("ann@example.com");
      await page.getByLabel("Phone (optional)").fill("call me maybe");
      await page.getByLabel("What is it about?").selectOption("billing");
      await page.getByLabel("Your message").fill("Fees?");
      await page.getByRole("button", { name: "Send message" }).click();
      await expect(page.getByRole("alert")).toContainText("Please correct 2 fields");
      await expect(page.getByText("A phone number may contain only digits")).toBeVisible();
      await expect(page.getByText("Please write at least 10 characters for your message.")).toBeVisible();
      await expect(page.getByLabel("Your name")).toHaveValue("Ann Lee");
      await expect(page.getByLabel("Email address")).toHaveValue("ann@example.com");
      await expect(page.getByLabel("What is it about?")).toHaveValue("billing");
      await expect(page.getByLabel("Your message")).toHaveValue("Fees?");
      await expect(page.getByLabel("Your message")).toHaveAttribute("aria-invalid", "true");
      await page.setViewportSize({ width: 375, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, `contact-errors-${javaScriptEnabled ? "js" : "nojs"}-375`);
      // Fixing the fields sends the message.
      await page.getByLabel("Phone (optional)").fill("");
      await page.getByLabel("Your message").fill("What do your fees include?");
      await page.getByRole("button", { name: "Send message" }).click();
      await expect(page.getByRole("status")).toContainText("Thank you");
      testInfo.annotations.push({ type: "mode", description: mode });
    });
  });
}
