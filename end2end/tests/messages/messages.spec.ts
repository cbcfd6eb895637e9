import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { MARIA, PHYSICIAN, screenshot, signIn } from "../support";

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Marks the document, to check later that nothing reloaded it. */
async function mark(page: Page) {
  await page.locator("html[data-hydrated]").waitFor();
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
}

test("a patient writes to the practice, the physician's open inbox shows it arrive, she replies, and each sees the other live", async ({ browser }) => {
  // The physician's second factor may wait for the next code.
  test.setTimeout(150_000);
  const physician = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(physician, PHYSICIAN);
  await physician.getByRole("navigation", { name: "Your areas" }).getByRole("link", { name: /^Messages/ }).click();
  await expect(physician.getByRole("heading", { level: 1, name: "Messages" })).toBeVisible();
  await mark(physician);
  const nav = physician.getByRole("navigation", { name: "Your areas" });
  const waiting = async () => Number((await nav.getByRole("link", { name: /^Messages/ }).innerText()).replace(/\D+/g, "") || "0");
  // The demo practice's inbox has the demo patients' conversations.
  await expect(physician.getByRole("list", { name: "Conversations" })).toContainText("Knee after the weekend run");
  const before = await waiting();

  const maria = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const errors: string[] = [];
  maria.on("console", (m) => {
    if (m.type() === "error" && !/status of 422/.test(m.text())) errors.push(m.text());
  });
  await signIn(maria, MARIA);
  await maria.getByRole("navigation", { name: "Your areas" }).getByRole("link", { name: /^Messages/ }).click();
  await maria.getByRole("link", { name: "New message" }).click();
  await mark(maria);
  // Not for emergencies, and when the practice answers.
  const note = maria.getByRole("note");
  await expect(note).toContainText("call 911");
  await expect(note).toContainText("answer within one business day");
  // Sent empty: what to fix, in place.
  await maria.getByRole("button", { name: "Send" }).click({ noWaitAfter: true });
  await maria.getByLabel("Subject").fill(" ");
  await maria.getByLabel("Message").fill(" ");
  await maria.evaluate(() => document.querySelectorAll("input,textarea").forEach((e) => e.removeAttribute("required")));
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(maria.getByRole("alert").first()).toContainText("Please correct the fields marked below.");
  await expect(maria.getByText("Give your message a subject.")).toBeVisible();
  await axeClean(maria);
  await screenshot(maria, "messages-compose-390");

  const subject = `Refill ${Date.now()}`;
  await maria.getByLabel("Subject").fill(subject);
  await maria.getByLabel("Message").fill("Could I get a refill of my lisinopril before Friday?");
  await maria.getByRole("button", { name: "Send" }).click();
  await expect(maria.getByRole("heading", { level: 1, name: subject })).toBeVisible();
  const thread = maria.getByRole("list", { name: "Messages" });
  await expect(thread).toContainText("Could I get a refill of my lisinopril before Friday?");
  await expect(thread).toContainText("Sent · not read yet");
  expect(await sameDocument(maria)).toBe(true);

  // The physician's inbox, open all along, shows it, and the header counts it.
  const inbox = physician.getByRole("list", { name: "Conversations" });
  await expect(inbox.getByRole("link", { name: new RegExp(subject) })).toBeVisible({ timeout: 10_000 });
  await expect(inbox).toContainText("Maria Lopez");
  await expect.poll(waiting).toBe(before + 1);
  expect(await sameDocument(physician)).toBe(true);
  await axeClean(physician);
  await screenshot(physician, "messages-inbox-1280");

  // She opens it; Maria sees it read, without a reload.
  await inbox.getByRole("link", { name: new RegExp(subject) }).click();
  await expect(physician.getByRole("list", { name: "Messages" })).toContainText("Could I get a refill");
  await expect(thread).toContainText("Read by Dr. Elena Marsh", { timeout: 10_000 });
  await expect.poll(waiting).toBe(before);

  // She replies; it appears on Maria's page live, and Maria's reading it shows on hers.
  await physician.getByLabel("Your message").fill("Yes, I sent it to your pharmacy this morning.");
  await physician.getByRole("button", { name: "Send" }).click();
  const hers = physician.getByRole("list", { name: "Messages" });
  await expect(hers).toContainText("Yes, I sent it to your pharmacy this morning.");
  await expect(physician.getByLabel("Your message")).toHaveValue("");
  await expect(thread).toContainText("Yes, I sent it to your pharmacy this morning.", { timeout: 10_000 });
  await expect(thread).toContainText("Dr. Elena Marsh");
  await expect(hers).toContainText("Read by Maria Lopez", { timeout: 10_000 });
  expect(await sameDocument(maria)).toBe(true);
  // She takes it on and, once it is settled, marks it done; the inbox's Done list has it.
  await physician.getByLabel("Looked after by").selectOption({ label: "Dr. Elena Marsh" });
  await physician.getByRole("button", { name: "Assign" }).click();
  await expect(physician.getByRole("main")).toContainText("Looked after by Dr. Elena Marsh");
  await physician.getByRole("button", { name: "Mark done" }).click();
  await expect(physician.getByRole("main")).toContainText("Marked done by the practice");
  await expect(physician.getByRole("button", { name: "Open again" })).toBeVisible();
  expect(await sameDocument(physician)).toBe(true);
  await axeClean(maria);
  await axeClean(physician);
  await screenshot(maria, "messages-conversation-390");
  await screenshot(physician, "messages-conversation-1280");
  await physician.goto("/dashboard/messages?show=done");
  await expect(physician.getByRole("list", { name: "Conversations" })).toContainText(subject);
  await axeClean(physician);
  expect(errors).toEqual([]);
});
