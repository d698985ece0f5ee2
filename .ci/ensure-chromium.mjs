// `npm test`'s first step: the report and browser tests drive a headless Chromium through playwright-core
// (test/browser.ts: CHROMIUM_PATH, else Debian's /usr/bin/chromium). When none is there, installs Debian's
// chromium with apt-get (through sudo when not root); otherwise says in one line what to install and fails.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const DEFAULT = '/usr/bin/chromium'; // the same default as test/browser.ts
const wanted = process.env.CHROMIUM_PATH;
const path = wanted ?? DEFAULT;

const runnable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const fail = (message) => {
  console.error(`npm test: ${message}`);
  process.exit(1);
};
const onPath = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

if (runnable(path)) process.exit(0);
if (wanted !== undefined)
  fail(`CHROMIUM_PATH=${wanted} is not an executable file; point it at a Chromium binary or unset it`);

const howTo = `install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary`;
if (process.platform !== 'linux' || !onPath('apt-get'))
  fail(`the browser and report tests need Chromium, not found at ${DEFAULT}: ${howTo}`);

const root = process.getuid?.() === 0;
if (!root && !onPath('sudo'))
  fail(`Chromium is missing at ${DEFAULT} and installing it needs root (no sudo here): ${howTo}`);
// sudo may ask for a password at a terminal; elsewhere it must not wait for one
const prefix = root ? [] : process.stdin.isTTY ? ['sudo'] : ['sudo', '-n'];
console.error(`npm test: Chromium is missing at ${DEFAULT}; installing Debian's chromium with apt-get`);
const install = spawnSync(
  'sh',
  [
    '-c',
    `${prefix.join(' ')} apt-get update -qq && ${prefix.join(' ')} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium`,
  ],
  { stdio: ['inherit', 'ignore', 'inherit'] },
);
if (install.status !== 0)
  fail(`installing chromium with apt-get failed (exit ${install.status ?? install.signal}): ${howTo}`);
if (!runnable(DEFAULT)) fail(`apt-get installed chromium, but ${DEFAULT} is still missing: ${howTo}`);
console.error(`npm test: installed ${DEFAULT}`);
