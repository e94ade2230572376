#!/usr/bin/env node
// Usage: node scripts/lib/complete-lock-platforms.cjs package-lock.json   (run after any npm install that rewrites the lock)
// The npm registry mirror here carries only this platform's @node-rs/bcrypt binary package, so npm leaves the
// other platforms' optional packages out of the lock and `npm ci` then refuses the lock as out of sync.
const fs = require('fs');
const path = process.argv[2];
const lock = JSON.parse(fs.readFileSync(path, 'utf8'));
const platforms = {
  'android-arm-eabi': ['android', 'arm'],
  'android-arm64': ['android', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'freebsd-x64': ['freebsd', 'x64'],
  'linux-arm-gnueabihf': ['linux', 'arm'],
  'linux-arm64-gnu': ['linux', 'arm64', 'glibc'],
  'linux-arm64-musl': ['linux', 'arm64', 'musl'],
  'linux-x64-musl': ['linux', 'x64', 'musl'],
  'win32-arm64-msvc': ['win32', 'arm64'],
  'win32-ia32-msvc': ['win32', 'ia32'],
  'win32-x64-msvc': ['win32', 'x64'],
};
const packages = {};
for (const [key, value] of Object.entries(lock.packages)) {
  packages[key] = value;
  if (key === 'node_modules/@node-rs/bcrypt') {
    for (const [suffix, [os, cpu, libc]] of Object.entries(platforms)) {
      const name = `node_modules/@node-rs/bcrypt-${suffix}`;
      if (lock.packages[name]) continue;
      packages[name] = {
        version: lock.packages[key].version,
        cpu: [cpu],
        ...(libc ? { libc: [libc] } : {}),
        license: 'MIT',
        optional: true,
        os: [os],
        engines: { node: '>= 10' },
      };
    }
  }
}
lock.packages = packages;
fs.writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
