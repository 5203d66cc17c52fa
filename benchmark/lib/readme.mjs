// Puts the latest results into README.md, between the bench markers, and nowhere else.
import fs from 'node:fs';
import path from 'node:path';
import { RESULTS, ROOT } from './paths.mjs';

const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

/** `base` is 'latest' or 'latest-quick': the results/<base>.md and .svg of a run. */
export function updateReadme(base = 'latest') {
  const readme = path.join(ROOT, 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  if (i < 0 || j < i) throw new Error('README.md has no bench markers');
  const table = fs.readFileSync(path.join(RESULTS, `${base}.md`), 'utf8').replace(/^# .*\n\n/, '').trim();
  const block = `${BEGIN}\n![lambda-rapid's advantage over the official client, per target](benchmark/results/${base}.svg)\n\n${table}\n${END}`;
  fs.writeFileSync(readme, text.slice(0, i) + block + text.slice(j + END.length));
}
