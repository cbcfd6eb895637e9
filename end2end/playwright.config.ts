import { defineConfig } from "@playwright/test";

// The browser tests start the built `bedside` binary themselves (serve.sh) on a fresh SQLite
// database with the demo practice, and drive Debian's Chromium: Playwright's own browser
// downloads are not used.
const PORT = Number(process.env.E2E_PORT ?? 3100);
// A second server whose clock the tests move (`POST /dev/clock`, development only), for what
// happens hours or days later: late cancellations, payment retries. Only tests/clock/ use it.
const CLOCK_PORT = Number(process.env.E2E_CLOCK_PORT ?? 3102);
// Both servers start at a fixed instant, never at the day the tests happen to run on (the
// development clock, started by BEDSIDE_DEV_CLOCK_START, runs on from there): a Wednesday
// morning in the practice's zone, the API tests' default too. E2E_NOW picks another.
const START = process.env.E2E_NOW ?? "2026-06-17T09:30:00-04:00";

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  fullyParallel: true,
  workers: 2,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "off",
  },
  webServer: [
    {
      command: "bash ./serve.sh",
      url: `http://127.0.0.1:${PORT}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        E2E_PORT: String(PORT),
        BEDSIDE_DEV_CLOCK_CONTROL: "true",
        BEDSIDE_DEV_CLOCK_START: START,
      },
    },
    {
      command: "bash ./serve.sh",
      url: `http://127.0.0.1:${CLOCK_PORT}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        E2E_PORT: String(CLOCK_PORT),
        E2E_DATA: `${__dirname}/.data-clock`,
        BEDSIDE_DEV_CLOCK_CONTROL: "true",
        BEDSIDE_DEV_CLOCK_START: START,
        // Jobs due after a clock move run within a second.
        BEDSIDE_JOBS__POLL_SECONDS: "1",
      },
    },
  ],
});
