import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { MARIA, screenshot, signIn } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

test("a patient shares her record with a passcode, a fresh browser opens it, she sees that and revokes it, and the link then says revoked", async ({ browser }) => {
  // Two browsers and a dozen steps; with the other tests running alongside, hydration alone
  // can take seconds.
  test.setTimeout(90_000);
  const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
  const patient = await context.newPage();
  const errors: string[] = [];
  patient.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await signIn(patient, MARIA);
  await patient.getByRole("link", { name: "Sharing" }).click();
  await expect(patient.getByRole("heading", { name: "Share my record" })).toBeVisible();
  await patient.locator("html[data-hydrated]").waitFor();
  await patient.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const label = `For Dr. Ruiz ${Date.now()}`;

  // Made in place; the address is shown once.
  const making = patient.getByRole("region", { name: "Make a link" });
  await making.getByLabel("Who it is for").fill(label);
  await making.getByLabel("Open for (days)").fill("3");
  await making.getByLabel("Passcode (optional)").fill("harbor-42");
  await making.getByLabel(/My documents, with their files/).check();
  await making.getByRole("button", { name: "Make the link" }).click();
  await expect(making.getByRole("status")).toContainText("Your link is ready.");
  const address = await making.getByLabel("Link to send").inputValue();
  expect(address).toMatch(/\/shl\/[A-Za-z0-9_-]{43}\/view#shlink:\//);
  const mine = patient.getByRole("article", { name: new RegExp(label) });
  await expect(mine).toContainText("Open");
  await expect(mine).toContainText("Not used yet.");
  expect(await patient.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true)).toBe(true);
  await axeClean(patient);
  await screenshot(patient, "share-made-390");

  // Someone without an app opens it in a fresh browser: a form first, then the record.
  const recipient = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const first = await recipient.goto(address);
  expect(first?.status()).toBe(200);
  await expect(recipient.getByRole("heading", { level: 1 })).toHaveText(label);
  await expect(recipient.locator("body")).not.toContainText("Penicillin");
  await axeClean(recipient);
  await screenshot(recipient, "share-viewer-ask-1280");
  await recipient.getByLabel("Your name").fill("Dr. Ana Ruiz");
  await recipient.getByLabel("Passcode").fill("harbor-4");
  await recipient.getByRole("button", { name: "Open the record" }).click();
  await expect(recipient.getByRole("alert")).toContainText("more wrong passcodes");
  await recipient.getByLabel("Passcode").fill("harbor-42");
  await recipient.getByRole("button", { name: "Open the record" }).click();
  await expect(recipient.getByRole("heading", { level: 1 })).toHaveText("Maria Lopez");
  await expect(recipient.getByRole("region", { name: "Chart" })).toContainText("Penicillin");
  await expect(recipient.getByRole("region", { name: "Visit notes" })).toContainText("Migraine without aura");
  const documents = recipient.getByRole("region", { name: "Documents" });
  const lab = documents.getByRole("listitem").filter({ hasText: "Lab result" }).first();
  await expect(lab).toBeVisible();
  await axeClean(recipient);
  await screenshot(recipient, "share-viewer-record-1280");
  // The lab report's file, downloaded as it was stored.
  const downloading = recipient.waitForEvent("download");
  const labTitle = (await lab.locator("strong").innerText()).trim();
  await lab.getByRole("button", { name: /Download/ }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  const path = await download.path();
  const fs = await import("node:fs");
  expect(fs.readFileSync(path).subarray(0, 5).toString()).toBe("%PDF-");

  // Maria sees who opened it and how, and ends it in place.
  await patient.reload();
  await patient.locator("html[data-hydrated]").waitFor();
  const used = patient.getByRole("article", { name: new RegExp(label) });
  const uses = used.getByRole("list", { name: /Uses of the link/ });
  await expect(uses).toContainText("Dr. Ana Ruiz");
  await expect(uses).toContainText("The shared record, in a web browser");
  await expect(uses).toContainText("Wrong passcode");
  await expect(uses).toContainText(`Downloaded “${labTitle}”`);
  await screenshot(patient, "share-used-390");
  await used.getByRole("button", { name: /End this link now/ }).click();
  await expect(patient.getByRole("status").filter({ hasText: "The link is ended" })).toBeVisible();
  await expect(patient.getByRole("article", { name: new RegExp(label) })).toContainText("Revoked");
  await axeClean(patient);
  expect(errors).toEqual([]);

  // The address now says so, with 410, and shows nothing of the record.
  // (In a new tab: the same address again in this one would only move to its fragment.)
  const again = await recipient.context().newPage();
  const after = await again.goto(address);
  expect(after?.status()).toBe(410);
  await expect(again.getByRole("heading", { level: 1 })).toHaveText("This link has ended");
  await expect(again.locator("body")).toContainText("revoked");
  await expect(again.locator("body")).not.toContainText("Penicillin");
  await axeClean(again);
  await screenshot(again, "share-viewer-revoked-1280");
});
