/**
 * A model card and a store listing entry built from a model directory's files (no I/O here).
 *
 * The side panel reads the files through the Jupyter contents API (`store.ts`) and hands their
 * text to these functions, which do what the kernel's `card/data.py`, `format/mlmodel.py`,
 * `format/sidecar.py` and `store/folder.py` do. The golden fixtures in `tests/fixtures/cards/`
 * (model directories and the card and listing entry each must give) are checked against both:
 * by pytest for the Python side and by `npm run test:node` for this module.
 */
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';

import { isFloatType, isWholeNumber } from './card';
import {
  CARD_SCHEMA,
  ICardData,
  IColumnRow,
  IParamRow,
  ISignatureTables,
  IVolatile
} from './cardschema';

/**
 * The sidecar file our `save_model` writes beside `MLmodel` (`format/sidecar.py`).
 */
export const SIDECAR = 'pyfunc_jupyter.json';

/**
 * The sidecar format this extension reads (`format.sidecar.FORMAT`).
 */
export const SIDECAR_FORMAT = 1;

/**
 * The scoring-server example a model saved with an input example has (`format.example.SERVING_FILE`).
 */
export const SERVING_FILE = 'serving_input_example.json';

/**
 * MLflow's default scoring-server port (`card.data.SERVE_PORT`).
 */
const SERVE_PORT = 5000;

/**
 * The loader module of custom pyfunc models.
 */
const PYFUNC_LOADER = 'mlflow.pyfunc.model';

/**
 * The pickle compressions MLflow writes (`format.mlmodel._COMPRESSIONS`).
 */
const COMPRESSIONS = ['gzip', 'bzip2', 'lzma'];

/**
 * YAML aliases that would expand past this many values are refused (`format.mlmodel._MAX_NODES`).
 */
const MAX_NODES = 100000;

/**
 * A JSON-ish value from YAML or JSON.
 */
export type Value = unknown;

/**
 * A mapping read from YAML or JSON.
 */
export type Mapping = { [key: string]: Value };

/**
 * Whether a value is a mapping (not `null`, not a list).
 */
export function isMapping(value: Value): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Python name of a value's type, as Python's messages name it.
 */
export function pythonType(value: Value): string {
  if (value === null || value === undefined) {
    return 'NoneType';
  }
  if (Array.isArray(value)) {
    return 'list';
  }
  if (typeof value === 'string') {
    return 'str';
  }
  if (typeof value === 'boolean') {
    return 'bool';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  return isMapping(value) ? 'dict' : typeof value;
}

/**
 * A value's JSON type name, as `format.sidecar` names it in messages.
 */
function jsonType(value: Value): string {
  if (value === null || value === undefined) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'array';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value === 'object' ? 'object' : typeof value;
}

/**
 * A value as Python's `repr` writes it (near enough for messages and summaries).
 */
export function pythonRepr(value: Value): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string') {
    return value.includes("'") && !value.includes('"')
      ? `"${value}"`
      : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }
  if (Array.isArray(value)) {
    return '[' + value.map(pythonRepr).join(', ') + ']';
  }
  if (isMapping(value)) {
    return (
      '{' +
      Object.entries(value)
        .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
        .join(', ') +
      '}'
    );
  }
  return String(value);
}

/**
 * The middle of a long text cut out, as Python's `reprlib` cuts it.
 */
function cutMiddle(text: string, limit: number): string {
  if (text.length <= limit) {
    return text;
  }
  const head = Math.max(0, Math.floor((limit - 3) / 2));
  const tail = Math.max(0, limit - 3 - head);
  return text.slice(0, head) + '...' + text.slice(text.length - tail);
}

/**
 * `reprlib.Repr` with `maxstring = maxother = 80` and `maxlevel = 3` (lists 6 items, dicts 4).
 */
function reprBounded(value: Value, level: number): string {
  if (typeof value === 'string') {
    let text = pythonRepr(value.slice(0, 80));
    if (text.length > 80) {
      const head = Math.floor((80 - 3) / 2);
      const tail = 80 - 3 - head;
      text = pythonRepr(value.slice(0, head) + value.slice(value.length - tail));
      text = text.slice(0, head) + '...' + text.slice(text.length - tail);
    }
    return text;
  }
  if (Array.isArray(value)) {
    if (level <= 0 && value.length) {
      return '[...]';
    }
    const pieces = value.slice(0, 6).map(item => reprBounded(item, level - 1));
    if (value.length > 6) {
      pieces.push('...');
    }
    return '[' + pieces.join(', ') + ']';
  }
  if (isMapping(value)) {
    const keys = Object.keys(value).sort();
    if (!keys.length) {
      return '{}';
    }
    if (level <= 0) {
      return '{...}';
    }
    const pieces = keys
      .slice(0, 4)
      .map(key => `${reprBounded(key, level - 1)}: ${reprBounded(value[key], level - 1)}`);
    if (keys.length > 4) {
      pieces.push('...');
    }
    return '{' + pieces.join(', ') + '}';
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return cutMiddle(String(value), 40);
  }
  return cutMiddle(pythonRepr(value), 80);
}

/**
 * A bounded `repr` of a value in a message (as `format.mlmodel._brief`).
 */
export function briefRepr(value: Value): string {
  const text = reprBounded(value, 3);
  return text.length <= 100 ? text : text.slice(0, 100) + '...';
}

/**
 * The error of a malformed MLmodel, worded as `pyfunc_jupyter.errors.MLmodelError`.
 */
export class MLmodelError extends Error {
  /**
   * @param path - the MLmodel file
   * @param key - the key at fault, if any
   * @param problem - what is wrong
   */
  constructor(path: string, key: string | null, problem: string) {
    super(`Malformed MLmodel file ${path}${key ? `, key '${key}'` : ''}: ${problem}`);
  }
}

/**
 * Parse and check the keys of an MLmodel that the loader reads (as `format.mlmodel.read_mlmodel`).
 *
 * @param path - the MLmodel path (for messages)
 * @param text - its content
 * @returns the parsed mapping
 * @throws MLmodelError naming the file, key and problem
 */
export function parseMlmodel(path: string, text: string): Mapping {
  let data: Value;
  try {
    data = loadYaml(text, { schema: CORE_SCHEMA });
  } catch (reason) {
    const detail = (reason as { message?: string }).message ?? String(reason);
    throw new MLmodelError(path, null, `not valid YAML (${detail.split('\n')[0]})`);
  }
  // js-yaml shares an aliased value; anything that walks it (a message, the card) would expand it
  let size: number;
  try {
    size = expandedSize(data, new Map(), new Set());
  } catch {
    size = Infinity; // a value that contains itself, or nested past the stack
  }
  if (size > MAX_NODES) {
    throw new MLmodelError(
      path,
      null,
      `its YAML aliases expand to more than ${MAX_NODES.toLocaleString('en-US')} values (a YAML bomb) ` +
        'or contain themselves; write the values out instead of repeating them through &anchors and *aliases'
    );
  }
  const expect = (key: string, value: Value, kinds: string[], what: string): void => {
    if (!kinds.includes(pythonType(value))) {
      const shown = briefRepr(value);
      throw new MLmodelError(path, key, `expected ${what}, found ${pythonType(value)} ${shown}`);
    }
  };
  const compressions = `(${COMPRESSIONS.map(pythonRepr).join(', ')})`;
  expect('(top level)', data, ['dict'], 'a mapping of keys');
  const top = data as Mapping;
  expect('flavors', top.flavors, ['dict'], 'a mapping of flavors');
  const flavor = (top.flavors as Mapping).python_function;
  if (flavor === undefined || flavor === null) {
    throw new MLmodelError(
      path,
      'flavors.python_function',
      'the model has no python_function flavor, so it is not a pyfunc model'
    );
  }
  expect('flavors.python_function', flavor, ['dict'], 'a mapping');
  const pyfunc = flavor as Mapping;
  expect('flavors.python_function.loader_module', pyfunc.loader_module, ['str'], 'a module name');
  if (pyfunc.loader_module === PYFUNC_LOADER) {
    expect(
      'flavors.python_function.python_model',
      pyfunc.python_model,
      ['str'],
      'the relative path of the pickled model'
    );
  }
  const optional: [string, string[], string][] = [
    ['code', ['str', 'NoneType'], 'a relative path or null'],
    ['artifacts', ['dict', 'NoneType'], 'a mapping of artifact names'],
    ['config', ['dict', 'NoneType'], 'a mapping'],
    ['streamable', ['bool', 'NoneType'], 'true or false'],
    ['env', ['dict', 'str', 'NoneType'], 'a mapping or a path'],
    ['python_model_compression', ['str', 'NoneType'], `one of ${compressions}`],
    ['data', ['str', 'NoneType'], 'a relative path or null']
  ];
  for (const [key, kinds, what] of optional) {
    expect(`flavors.python_function.${key}`, pyfunc[key], kinds, what);
  }
  const compression = pyfunc.python_model_compression;
  if (typeof compression === 'string' && !COMPRESSIONS.includes(compression)) {
    throw new MLmodelError(
      path,
      'flavors.python_function.python_model_compression',
      `unknown compression ${pythonRepr(compression)}; expected one of ${compressions}`
    );
  }
  for (const [name, entry] of Object.entries((pyfunc.artifacts as Mapping) || {})) {
    const key = `flavors.python_function.artifacts.${name}`;
    expect(key, entry, ['dict'], "a mapping with a 'path'");
    expect(`${key}.path`, (entry as Mapping).path, ['str'], 'a relative path');
  }
  const signature = top.signature;
  expect('signature', signature, ['dict', 'NoneType'], 'a mapping of JSON strings');
  if (isMapping(signature) && Object.keys(signature).length) {
    for (const part of ['inputs', 'outputs', 'params']) {
      expect(`signature.${part}`, signature[part], ['str', 'NoneType'], 'a JSON string or null');
    }
  }
  const info = top.saved_input_example_info;
  expect('saved_input_example_info', info, ['dict', 'NoneType'], 'a mapping');
  if (isMapping(info) && Object.keys(info).length) {
    expect(
      'saved_input_example_info.artifact_path',
      info.artifact_path,
      ['str'],
      'a relative path'
    );
  }
  expect('metadata', top.metadata, ['dict', 'NoneType'], 'a mapping');
  return top;
}

/**
 * How many values `value` expands to, each alias counted every time; throws on a value containing itself.
 */
function expandedSize(value: Value, sizes: Map<object, number>, open: Set<object>): number {
  if (typeof value !== 'object' || value === null) {
    return 1;
  }
  const known = sizes.get(value);
  if (known !== undefined) {
    return known;
  }
  if (open.has(value)) {
    throw new Error('recursive');
  }
  open.add(value);
  let total = 1;
  for (const child of Object.values(value as Mapping)) {
    total += expandedSize(child, sizes, open);
    if (total > MAX_NODES) {
      break;
    }
  }
  open.delete(value);
  sizes.set(value, total);
  return total;
}

/**
 * An MLmodel fact as text (`store.folder.text_or_none`): a number as text; a list, mapping or flag is `null`.
 */
function textOrNull(value: Value): string | null {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' ? String(value) : null;
}

/**
 * Keys of the sidecar that readers use, with their JSON types (`format.sidecar._TYPES`).
 */
const SIDECAR_TYPES: [string, string][] = [
  ['created', 'string'],
  ['run_id', 'string'],
  ['artifact_name', 'string'],
  ['source', 'string'],
  ['name', 'string'],
  ['signature_summary', 'string'],
  ['size_bytes', 'integer'],
  ['requirements', 'array'],
  ['card', 'object'],
  ['content_hash', 'string']
];

/**
 * The text of a sidecar as a checked mapping (as `format.sidecar.parse_sidecar`).
 *
 * @param text - the file's content
 * @returns the mapping
 * @throws Error starting `unreadable pyfunc_jupyter.json:` when it is not JSON, not an object, of
 *   another format, or a key has the wrong type
 */
export function parseSidecar(text: string): Mapping {
  let side: Value;
  try {
    side = JSON.parse(text);
  } catch {
    throw new Error(`unreadable ${SIDECAR}: not valid JSON`);
  }
  if (!isMapping(side)) {
    throw new Error(`unreadable ${SIDECAR}: expected a JSON object, found ${jsonType(side)}`);
  }
  if (side.format !== SIDECAR_FORMAT) {
    throw new Error(
      `unreadable ${SIDECAR}: format ${JSON.stringify(side.format ?? null)} is not the format ` +
        `${SIDECAR_FORMAT} this pyfunc-jupyter reads; install the pyfunc-jupyter version that saved the model`
    );
  }
  for (const [key, kind] of SIDECAR_TYPES) {
    const value = side[key];
    if (value !== null && value !== undefined && jsonType(value) !== kind) {
      throw new Error(
        `unreadable ${SIDECAR}: '${key}' should be ${kind}, found ${jsonType(value)}`
      );
    }
  }
  return side;
}

/**
 * The scalar type names of a signature (`format.types.DataType`).
 */
const DATA_TYPES = [
  'boolean',
  'integer',
  'long',
  'float',
  'double',
  'string',
  'binary',
  'datetime'
];

/**
 * A type of a signature's JSON, written as `format.schema._type_repr` writes it.
 */
function typeRepr(spec: Value): string {
  if (!isMapping(spec) || typeof spec.type !== 'string') {
    throw new Error(`A type must be a JSON object with a string 'type'; got ${pythonRepr(spec)}`);
  }
  switch (spec.type) {
    case 'array':
      return `Array(${typeRepr(spec.items)})`;
    case 'object': {
      if (!isMapping(spec.properties)) {
        throw new Error("An object type needs a 'properties' mapping");
      }
      const props = Object.entries(spec.properties)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(
          ([name, p]) =>
            `${name}: ${typeRepr(p)}` + (isMapping(p) && p.required === false ? ' (optional)' : '')
        );
      return '{' + props.join(', ') + '}';
    }
    case 'map':
      return `Map(str -> ${typeRepr(spec.values)})`;
    case 'any':
      return 'Any';
    default:
      if (!DATA_TYPES.includes(spec.type)) {
        throw new Error(
          `Unknown type ${pythonRepr(spec.type)}; expected one of ${pythonRepr(DATA_TYPES)}, ` +
            'array, object, map or any.'
        );
      }
      return spec.type;
  }
}

/**
 * A schema's JSON string as rows; tensors as `tensor <dtype> [shape]`.
 */
function schemaRows(text: Value): IColumnRow[] | null {
  if (text === null || text === undefined) {
    return null;
  }
  const specs = JSON.parse(String(text));
  if (!Array.isArray(specs)) {
    throw new Error('A schema must be a JSON list of specs.');
  }
  return specs.map((spec: Mapping) => {
    if (spec.type === 'tensor') {
      const inner = spec['tensor-spec'] as Mapping;
      if (!isMapping(inner) || !('dtype' in inner) || !Array.isArray(inner.shape)) {
        throw new Error("A tensor spec needs 'tensor-spec' with 'dtype' and 'shape'.");
      }
      return {
        name: (spec.name as string) ?? null,
        type: `tensor ${inner.dtype} [${(inner.shape as number[]).join(', ')}]`,
        required: true
      };
    }
    return {
      name: (spec.name as string) ?? null,
      type: typeRepr(spec),
      required: spec.required === undefined ? true : Boolean(spec.required)
    };
  });
}

/**
 * A params JSON string as rows.
 */
function paramRows(text: Value): IParamRow[] | null {
  if (text === null || text === undefined) {
    return null;
  }
  const specs = JSON.parse(String(text));
  if (!Array.isArray(specs) || !specs.every(isMapping)) {
    throw new Error('A param schema must be a JSON list of objects.');
  }
  return specs.map((spec: Mapping) => ({
    name: String(spec.name),
    type: typeRepr(spec) + (Array.isArray(spec.shape) ? ` [${spec.shape.join(', ')}]` : ''),
    default: spec.default ?? null
  }));
}

/**
 * The signature tables of an MLmodel's `signature` mapping (as `card.data.signature_tables`).
 *
 * @param signature - the mapping of JSON strings, or `null`
 * @returns the tables, or `null` when there is no signature
 */
export function signatureTables(signature: Value): ISignatureTables | null {
  if (!isMapping(signature)) {
    return null;
  }
  const tables = {
    inputs: schemaRows(signature.inputs),
    outputs: schemaRows(signature.outputs),
    params: paramRows(signature.params)
  };
  if (tables.inputs === null && tables.outputs === null && tables.params === null) {
    throw new Error(
      'At least one of inputs, outputs or params must be provided to ModelSignature.'
    );
  }
  return tables;
}

/**
 * A param default as Python prints it: JSON drops the `.0` of a float param's whole numbers.
 */
function floatRepr(value: Value, type: string): string {
  if (!isFloatType(type)) {
    return pythonRepr(value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map(v => floatRepr(v, type)).join(', ') + ']';
  }
  return isWholeNumber(value) ? value.toFixed(1) : pythonRepr(value);
}

/**
 * One line for a signature (as `ModelSignature.summary()`).
 *
 * @param tables - the signature tables
 * @returns `[x: double] -> [x: double]; params: k: long = 1`
 */
export function signatureSummary(tables: ISignatureTables): string {
  const cols = (rows: IColumnRow[] | null): string =>
    rows === null
      ? '?'
      : '[' +
        rows
          .map(
            r =>
              (r.name !== null ? `${r.name}: ` : '') +
              (r.type.startsWith('tensor ') ? r.type.slice(7).replace(' ', '') : r.type)
          )
          .join(', ') +
        ']';
  let text = `${cols(tables.inputs)} -> ${cols(tables.outputs)}`;
  if (tables.params !== null) {
    text +=
      '; params: ' +
      tables.params
        .map(
          p =>
            `${p.name}: ${p.type.replace(/ \[-1\]$/, '')} = ${floatRepr(p.default as Value, p.type)}`
        )
        .join(', ');
  }
  return text;
}

/**
 * Whether an MLmodel declares a signature (Python's truthiness: an empty mapping does not).
 */
function hasSignature(mlmodel: Mapping): boolean {
  return isMapping(mlmodel.signature) && Object.keys(mlmodel.signature).length > 0;
}

/**
 * The signature tables of a parsed MLmodel, `null` without one (as `format.mlmodel.read_signature`).
 *
 * @throws MLmodelError when the signature's JSON cannot be read
 */
function readSignature(path: string, mlmodel: Mapping): ISignatureTables | null {
  if (!hasSignature(mlmodel)) {
    return null;
  }
  try {
    return signatureTables(mlmodel.signature);
  } catch (reason) {
    const detail = (reason as Error).message ?? String(reason);
    throw new MLmodelError(
      path,
      'signature',
      `the signature cannot be read (${detail.slice(0, 300)})`
    );
  }
}

/**
 * A PEP 503 normalised distribution name.
 */
function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const REQUIREMENT_NAME = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/;

/**
 * The `requirements.txt` lines with where each came from (as `card.data._requirements`).
 */
function requirementRows(
  text: string | null,
  side: Mapping | null
): { rows: { name: string; source: string }[]; pins: { [name: string]: string } } {
  const inferred = new Map<string, Mapping>();
  const listed = side && Array.isArray(side.requirements) ? side.requirements : [];
  for (const r of listed) {
    if (isMapping(r) && typeof r.name === 'string') {
      inferred.set(canonicalName(r.name), r);
    }
  }
  const rows: { name: string; source: string }[] = [];
  const pins: { [name: string]: string } = {};
  for (const raw of (text || '').split(/\r?\n/)) {
    const line = raw.trim();
    const match = REQUIREMENT_NAME.exec(line);
    if (!line || line.startsWith('#') || !match) {
      continue;
    }
    const name = match[1];
    const key = canonicalName(name);
    let source: string;
    if (inferred.has(key)) {
      const saved = inferred.get(key)!.reasons;
      const reasons = Array.isArray(saved) ? saved.filter(r => typeof r === 'string') : [];
      source = reasons.length ? 'inferred: ' + reasons.join('; ') : 'inferred';
    } else if (side !== null && (key === 'mlflow' || key === 'mlflow-skinny')) {
      source = 'added: MLflow is installed where the model was saved';
    } else {
      source = side !== null ? 'given' : 'requirements.txt';
    }
    rows.push({ name, source });
    pins[name] = line;
  }
  return { rows, pins };
}

const TABLE_STATUSES = ['reference', 'match', 'mismatch', 'error', 'missing'];

function isInt(value: Value): boolean {
  return typeof value === 'number' && Number.isInteger(value);
}

function isText(value: Value): boolean {
  return typeof value === 'string';
}

function optional(check: (value: Value) => boolean): (value: Value) => boolean {
  return value => value === null || value === undefined || check(value);
}

/**
 * Whether `value` is a list of mappings whose `fields` pass their checks.
 */
function rowsOf(value: Value, fields: { [key: string]: (value: Value) => boolean }): boolean {
  return (
    Array.isArray(value) &&
    value.every(row => isMapping(row) && Object.entries(fields).every(([key, ok]) => ok(row[key])))
  );
}

function isTable(value: Value): boolean {
  return (
    isMapping(value) &&
    isInt(value.total_rows) &&
    Array.isArray(value.columns) &&
    value.columns.every(isText) &&
    Array.isArray(value.rows) &&
    value.rows.every(r => Array.isArray(r))
  );
}

function isPreview(value: Value): boolean {
  const isDiff = (v: Value): boolean =>
    Array.isArray(v) && v.every(d => Array.isArray(d) && d.every(isInt));
  return (
    isMapping(value) &&
    isTable(value.input) &&
    rowsOf(value.outputs, {
      label: isText,
      status: v => TABLE_STATUSES.includes(v as string),
      table: optional(isTable),
      diff: optional(isDiff),
      error: optional(isText)
    })
  );
}

/**
 * What the save kept in the sidecar for later cards; each malformed part is left out (as
 * `card.data._kept`).
 */
function keptFacts(side: Mapping | null): {
  model: string | null;
  checks: ICardData['checks'];
  state: Mapping[];
  preview: ICardData['preview'];
} {
  const kept = side && isMapping(side.card) ? side.card : {};
  const checksOk = rowsOf(kept.checks, {
    check: isText,
    severity: v => v === 'error' || v === 'warning',
    message: isText,
    fix: isText
  });
  const stateOk = rowsOf(kept.state, { attribute: isText, type: isText, bytes: optional(isInt) });
  return {
    model: typeof kept.model === 'string' ? kept.model : null,
    checks: checksOk ? (kept.checks as ICardData['checks']) : [],
    state: stateOk ? (kept.state as Mapping[]) : [],
    preview: isPreview(kept.preview) ? (kept.preview as unknown as ICardData['preview']) : null
  };
}

/**
 * A model directory's files as the card needs them (read by the caller).
 */
export interface IModelFiles {
  /** The directory, as it is shown (the card's volatile `path`). */
  dir: string;
  /** Every file under it with its size, in `os.walk` order (files, then sorted folders). */
  files: { path: string; size: number }[];
  /** The text of `MLmodel`. */
  mlmodel: string;
  /** The text of the sidecar, or `null` when there is none or it cannot be read. */
  sidecar: string | null;
  /** The text of `requirements.txt`, or `null` when there is none or it cannot be read. */
  requirements: string | null;
}

/**
 * A model version's card: the same shape as the kernel's.
 */
export interface IStoredCard {
  /** The card data. */
  data: ICardData;
  /** The volatile facts. */
  volatile: IVolatile;
}

/**
 * The card of a version of the store (as `card.modelcard.model_card("models:/<name>/<version>")`).
 *
 * @param name - the model name
 * @param version - the version
 * @param input - the directory's files
 * @returns the card data and volatile facts
 * @throws MLmodelError when the MLmodel is malformed
 */
export function buildCard(name: string, version: number, input: IModelFiles): IStoredCard {
  const mlmodel = parseMlmodel(`${input.dir}/MLmodel`, input.mlmodel);
  const flavor = (mlmodel.flavors as Mapping).python_function as Mapping;
  let side: Mapping | null = null;
  if (input.sidecar !== null) {
    try {
      side = parseSidecar(input.sidecar);
    } catch {
      side = null; // as the kernel's card: an unreadable sidecar is ignored here
    }
  }
  const { rows, pins } = requirementRows(input.requirements, side);
  const kept = keptFacts(side);
  const checks = kept.checks;
  const state = kept.state;
  const stateSizes: { [attribute: string]: number } = {};
  for (const row of state) {
    if (typeof row.bytes === 'number') {
      stateSizes[row.attribute as string] = row.bytes;
    }
  }
  const sizes: { [path: string]: number } = {};
  for (const file of input.files) {
    sizes[file.path] = file.size;
  }
  const artifacts = Object.entries((flavor.artifacts as Mapping) || {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, spec]) => ({ key, path: ((spec as Mapping).path as string) ?? null }));
  const data: ICardData = {
    schema: CARD_SCHEMA,
    status: 'saved',
    name,
    version,
    uri: `models:/${name}/${version}`,
    model: kept.model,
    signature: readSignature(`${input.dir}/MLmodel`, mlmodel),
    requirements: rows,
    artifacts,
    files: input.files.map(f => ({ path: f.path })),
    state: state.map(row => ({ attribute: row.attribute as string, type: row.type as string })),
    checks,
    summary: {
      errors: checks.filter(c => c.severity === 'error').length,
      warnings: checks.filter(c => c.severity === 'warning').length
    },
    preview: kept.preview,
    // as `card.data.serve_data`; the command is written from it and the volatile `path` (here the
    // directory relative to the Jupyter root, where a terminal opened in JupyterLab starts)
    serve: {
      env_manager: 'local',
      host: '127.0.0.1',
      port: SERVE_PORT,
      input: input.files.some(f => f.path === SERVING_FILE) ? SERVING_FILE : null
    }
  };
  const volatile: IVolatile = {
    path: input.dir,
    created: textOrNull(mlmodel.utc_time_created),
    model_uuid: textOrNull(mlmodel.model_uuid),
    run_id: textOrNull(mlmodel.run_id),
    python_version: textOrNull(flavor.python_version),
    cloudpickle_version: textOrNull(flavor.cloudpickle_version),
    pins,
    sizes,
    state_sizes: stateSizes,
    total_bytes: input.files.reduce((total, f) => total + f.size, 0),
    model_size_bytes: Number.isInteger(mlmodel.model_size_bytes)
      ? (mlmodel.model_size_bytes as number)
      : null,
    timings: {}
  };
  return { data, volatile };
}

/**
 * What the store's listing shows of one version (as `store.folder.StoreEntry`).
 */
export interface IVersionFacts {
  /** When it was created (UTC), if known. */
  created: string | null;
  /** `[x: double] -> [value: double]; params: ...`, if it has a signature. */
  signatureSummary: string | null;
  /** Its size in bytes, if known. */
  sizeBytes: number | null;
  /** Why it cannot be used, for a broken version; else `null`. */
  error: string | null;
}

/**
 * The listing facts of a version (as `store.folder._entry`): from the sidecar when there is one,
 * else from the MLmodel (a directory MLflow wrote). Never throws: a broken version has `error`.
 *
 * @param mlmodelPath - the MLmodel path (for messages)
 * @param mlmodelText - the MLmodel's text, or `null` when the directory has none
 * @param sidecarText - the sidecar's text, or `null` when the directory has none
 * @returns the facts
 */
export function versionFacts(
  mlmodelPath: string,
  mlmodelText: string | null,
  sidecarText: string | null
): IVersionFacts {
  const facts: IVersionFacts = {
    created: null,
    signatureSummary: null,
    sizeBytes: null,
    error: null
  };
  if (mlmodelText === null) {
    facts.error = 'no MLmodel file: not a model directory';
    return facts;
  }
  try {
    if (sidecarText !== null) {
      const side = parseSidecar(sidecarText);
      facts.created = (side.created as string) ?? null;
      facts.signatureSummary = (side.signature_summary as string) ?? null;
      facts.sizeBytes = (side.size_bytes as number) ?? null;
      return facts;
    }
    const mlmodel = parseMlmodel(mlmodelPath, mlmodelText);
    const tables = readSignature(mlmodelPath, mlmodel);
    facts.signatureSummary = tables ? signatureSummary(tables) : null;
    facts.created = textOrNull(mlmodel.utc_time_created);
    const size = mlmodel.model_size_bytes;
    facts.sizeBytes = typeof size === 'number' && Number.isInteger(size) ? size : null;
  } catch (reason) {
    facts.error = (reason as Error).message ?? String(reason);
  }
  return facts;
}
