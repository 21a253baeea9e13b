// Write src/cardschema.ts (the card's TypeScript types) from pyfunc_jupyter/card/card.schema.json.
//   node scripts/cardtypes.mjs          rewrite it when the schema changed (run by `npm run build:lib`)
//   node scripts/cardtypes.mjs --check  exit 1 if it is out of date (run by `npm run test:node`)
// Only the JSON Schema keywords the card uses are understood; any other one stops the script, so the
// types can never silently say less than the schema.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SCHEMA = join(here, '..', '..', 'pyfunc_jupyter', 'card', 'card.schema.json');
const TARGET = join(here, '..', 'src', 'cardschema.ts');
const KNOWN = new Set([
  '$schema', '$id', '$defs', '$ref', 'title', 'description', 'type', 'properties', 'required',
  'additionalProperties', 'items', 'enum', 'const', 'oneOf', 'minimum', 'pattern'
]);

function fail(message) {
  console.error(`cardtypes: ${message}`);
  process.exit(2);
}

function literal(value) {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : JSON.stringify(value);
}

function comment(text, indent) {
  return text ? `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n` : '';
}

function typeOf(schema, indent, where) {
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) {
      fail(`${where}: the keyword '${key}' is not understood; teach scripts/cardtypes.mjs or avoid it`);
    }
  }
  if (schema.$ref) {
    const match = /^#\/\$defs\/(\w+)$/.exec(schema.$ref);
    if (!match) {
      fail(`${where}: only local $defs references are understood, not ${schema.$ref}`);
    }
    return match[1];
  }
  if ('const' in schema) {
    return literal(schema.const);
  }
  if (schema.enum) {
    return schema.enum.map(literal).join(' | ');
  }
  if (schema.oneOf) {
    return schema.oneOf.map((s, i) => typeOf(s, indent, `${where}.oneOf[${i}]`)).join(' | ');
  }
  if (schema.type === undefined) {
    return 'unknown';
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types
    .map(type => {
      switch (type) {
        case 'string':
          return 'string';
        case 'integer':
        case 'number':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array': {
          const item = schema.items ? typeOf(schema.items, indent, `${where}.items`) : 'unknown';
          return /^[\w.[\]]+$/.test(item) ? `${item}[]` : `(${item})[]`;
        }
        case 'object':
          return objectType(schema, indent, where);
        default:
          return fail(`${where}: unknown type ${type}`);
      }
    })
    .join(' | ');
}

function objectType(schema, indent, where) {
  const inner = indent + '  ';
  const required = new Set(schema.required || []);
  const lines = [];
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const optional = required.has(name) ? '' : '?';
    lines.push(comment(prop.description, inner) + `${inner}${name}${optional}: ${typeOf(prop, inner, `${where}.${name}`)};\n`);
  }
  const extra = schema.additionalProperties;
  if (extra && typeof extra === 'object') {
    lines.push(`${inner}[key: string]: ${typeOf(extra, inner, `${where}.*`)};\n`);
  } else if (extra !== false && !schema.properties) {
    lines.push(`${inner}[key: string]: unknown;\n`);
  }
  return `{\n${lines.join('')}${indent}}`;
}

function declaration(name, schema) {
  const body = typeOf(schema, '', name);
  return (
    comment(schema.description, '') +
    (body.startsWith('{') ? `export interface ${name} ${body}\n` : `export type ${name} = ${body};\n`)
  );
}

export function generate() {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
  const version = schema.properties?.schema?.const;
  if (typeof version !== 'number') {
    fail("the schema must fix its version: properties.schema.const");
  }
  const parts = [
    '// Generated from pyfunc_jupyter/card/card.schema.json by scripts/cardtypes.mjs: do not edit.\n',
    '// Edit the schema, then run `npm run build:lib` (or `node scripts/cardtypes.mjs`).\n\n',
    '/**\n * The card schema version this extension builds and draws.\n */\n',
    `export const CARD_SCHEMA = ${version};\n\n`,
    declaration(schema.title, schema)
  ];
  for (const [name, def] of Object.entries(schema.$defs || {})) {
    parts.push('\n' + declaration(name, def));
  }
  return parts.join('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generate();
  const current = existsSync(TARGET) ? readFileSync(TARGET, 'utf8') : null;
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error('src/cardschema.ts is out of date with card.schema.json: run `node scripts/cardtypes.mjs`.');
      process.exit(1);
    }
  } else if (current !== text) {
    writeFileSync(TARGET, text); // only when changed, so an unchanged schema triggers no rebuild
  }
}
