#!/usr/bin/env node
// npm's `version` lifecycle script: `npm version <patch|minor|major|x.y.z>` has just written the
// new version into package.json (and package-lock.json); this gives it to the four platform
// packages in npm/ (the main package's optionalDependencies name them at its own version, so
// all five move together) and turns CHANGELOG.md's "Unreleased" section into this version's.
// npm then commits and tags what `git add` staged. `node scripts/version.mjs [root]` for a copy.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './node-binary.mjs';

export function syncVersion(root = ROOT, today = new Date().toISOString().slice(0, 10)) {
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const changed = [];
  for (const dir of fs.readdirSync(path.join(root, 'npm')).sort()) {
    const file = path.join(root, 'npm', dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const next = text.replace(/("version":\s*)"[^"]*"/, `$1"${version}"`);
    if (next !== text) {
      fs.writeFileSync(file, next);
      changed.push(path.relative(root, file));
    }
  }
  const changelog = path.join(root, 'CHANGELOG.md');
  if (fs.existsSync(changelog)) {
    const text = fs.readFileSync(changelog, 'utf8');
    if (!text.includes(`\n## ${version} `) && /\n## Unreleased\n/.test(text)) {
      fs.writeFileSync(changelog, text.replace(/\n## Unreleased\n/, `\n## Unreleased\n\n## ${version} (${today})\n`));
      changed.push('CHANGELOG.md');
    }
  }
  return { version, changed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { version, changed } = syncVersion(process.argv[2] ? path.resolve(process.argv[2]) : ROOT);
  console.log(`lambda-rapid ${version}: ${changed.length ? changed.join(', ') : 'nothing to change'}`);
}
