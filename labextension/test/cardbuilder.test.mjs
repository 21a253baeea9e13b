// The side panel's card builder against the golden fixtures that pytest checks the kernel's against
// (tests/fixtures/cards: model directories and the card and listing entry each must give).
// Run by `npm run test:node`, which compiles src/cardbuilder.ts to lib-test/ first.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const { buildCard, versionFacts, SIDECAR } = require('../lib-test/cardbuilder.js');
const { CARD_SCHEMA } = require('../lib-test/cardschema.js');

const ROOT = join(here, '..', '..');
// CARD_FIXTURES points elsewhere for pytest's generated differential cases (same layout).
const FIXTURES = process.env.CARD_FIXTURES || join(ROOT, 'tests', 'fixtures', 'cards');
const STORE = join(FIXTURES, 'store');
const SHOWN = '<store>'; // how the expectations write the store folder
const cases = readdirSync(join(FIXTURES, 'expected'))
  .filter(name => name.endsWith('.json'))
  .map(name => name.slice(0, -'.json'.length))
  .sort();

/** Every file under `dir` with its size, in `os.walk` order (files, then sorted folders). */
function walk(dir, relative = '') {
  const names = readdirSync(join(dir, relative)).sort();
  const isDir = name => statSync(join(dir, relative, name)).isDirectory();
  const path = name => (relative ? `${relative}/${name}` : name);
  const files = names
    .filter(name => !isDir(name))
    .map(name => ({ path: path(name), size: statSync(join(dir, relative, name)).size }));
  for (const name of names.filter(isDir)) {
    files.push(...walk(dir, path(name)));
  }
  return files;
}

function text(file) {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

test('the schema version is the one the schema file fixes', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'pyfunc_jupyter', 'card', 'card.schema.json'), 'utf8'));
  assert.equal(CARD_SCHEMA, schema.properties.schema.const);
  assert.ok(cases.length >= 10, `only ${cases.length} fixtures in ${FIXTURES}`);
});

for (const name of cases) {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected', `${name}.json`), 'utf8'));
  const dir = join(STORE, name, '1');
  const shown = `${SHOWN}/${name}/1`;

  test(`card of ${name}`, () => {
    const input = {
      dir: shown,
      files: walk(dir),
      mlmodel: text(join(dir, 'MLmodel')),
      sidecar: text(join(dir, SIDECAR)),
      requirements: text(join(dir, 'requirements.txt'))
    };
    if (expected.card_error) {
      const wanted = expected.card_error;
      assert.throws(
        () => buildCard(name, 1, input),
        error =>
          wanted.message !== undefined
            ? (assert.equal(error.message, wanted.message), true)
            : (assert.ok(error.message.startsWith(wanted.prefix), error.message), true)
      );
      return;
    }
    assert.deepEqual(buildCard(name, 1, input), expected.card);
  });

  test(`listing entry of ${name}`, () => {
    const facts = versionFacts(`${shown}/MLmodel`, text(join(dir, 'MLmodel')), text(join(dir, SIDECAR)));
    const { error_prefix: prefix, ...wanted } = expected.listing;
    if (prefix !== undefined) {
      assert.ok(facts.error && facts.error.startsWith(prefix), facts.error);
      facts.error = null;
    }
    assert.deepEqual(
      {
        created: facts.created,
        signature_summary: facts.signatureSummary,
        size_bytes: facts.sizeBytes,
        error: facts.error
      },
      wanted
    );
  });
}

test('serveLines gives the shared serve-line cases (serve_lines.json, also checked by pytest)', () => {
  const { serveLines } = require('../lib-test/card.js');
  const shared = JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'cards', 'serve_lines.json'), 'utf8'));
  for (const c of shared.cases) {
    assert.deepEqual(serveLines(c.serve, c.location, c.uri, c.tracking_uri), c.expected, c.case);
  }
});
