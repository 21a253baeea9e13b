/**
 * The local model store (`<store>/<name>/<version>/`), read through the Jupyter contents API.
 *
 * Nothing is unpickled and no server extension is needed: a version is described by its
 * `MLmodel`, our sidecar `pyfunc_jupyter.json` (absent for models MLflow wrote),
 * `requirements.txt` and the directory listing. The card built here has the shape of the
 * kernel's card (`pyfunc_jupyter/_carddata.py`), so the same renderer draws both.
 */
import { Contents } from '@jupyterlab/services';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';

import {
  ICardData,
  IColumnRow,
  IParamRow,
  ISignatureTables,
  IVolatile,
  isFloatType,
  isWholeNumber
} from './card';

/**
 * The sidecar file our `save_model` writes beside `MLmodel`.
 */
export const SIDECAR = 'pyfunc_jupyter.json';

/**
 * The loader module of custom pyfunc models.
 */
const PYFUNC_LOADER = 'mlflow.pyfunc.model';

/**
 * A model name of the store (`_store._NAME`): so `..` or `a/b` never leave the store.
 */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A version folder (`_store._VERSION`): ASCII digits without a leading zero.
 */
const VERSION_NAME = /^[1-9][0-9]{0,17}$/;

/**
 * YAML aliases that would expand past this many values are refused (`_mlmodel._MAX_NODES`).
 */
const MAX_NODES = 100000;

/**
 * Whether `name` may name a model folder of the store.
 */
export function isModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

/**
 * Whether `name` is a version folder's name.
 */
export function isVersionName(name: string): boolean {
  return VERSION_NAME.test(name);
}

/**
 * One version of a model in the store, as listed.
 */
export interface IStoreVersion {
  /** The model name (its folder). */
  name: string;
  /** The version number (its folder). */
  version: number;
  /** The version folder, relative to the Jupyter root. */
  path: string;
  /** `models:/<name>/<version>`. */
  uri: string;
  /** When it was created (UTC), if known. */
  created: string | null;
  /** `[x: double] -> [value: double]; params: ...`, if it has a signature. */
  signatureSummary: string | null;
  /** Its size in bytes, if known. */
  sizeBytes: number | null;
  /** Why it cannot be used, for a broken version; else `null`. */
  error: string | null;
  /** Its description, from the model's `registry.json` (see `store/registry.py`). */
  description?: string | null;
  /** Its tags, from `registry.json`. */
  tags?: { [key: string]: string };
  /** The aliases pointing at it (`models:/<name>@<alias>`), from `registry.json`. */
  aliases?: string[];
}

/**
 * The registry file of a model folder (written by the kernel under a lock; read-only here).
 */
export const REGISTRY_FILE = 'registry.json';

/**
 * One model (a folder of versions) in the store.
 */
export interface IStoreModel {
  /** The model name. */
  name: string;
  /** Its versions, newest first. */
  versions: IStoreVersion[];
  /** Why the folder is not a model, when it holds no version; else `null`. */
  error: string | null;
}

/**
 * What the store holds.
 */
export interface IStoreListing {
  /** The store folder, relative to the Jupyter root. */
  storeDir: string;
  /** Whether the folder exists. */
  exists: boolean;
  /** The models, by name. */
  models: IStoreModel[];
  /** Why the store could not be listed, if it could not. */
  error: string | null;
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
 * A JSON-ish value from YAML or JSON.
 */
type Value = unknown;

/**
 * A mapping read from YAML or JSON.
 */
type Mapping = { [key: string]: Value };

function isMapping(value: Value): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Python name of a value's type, as Python's messages name it.
 */
function pythonType(value: Value): string {
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
 * Parse and check the keys of an MLmodel that the loader reads (as `_mlmodel.read_mlmodel`).
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
      const shown = pythonRepr(value).slice(0, 80);
      throw new MLmodelError(path, key, `expected ${what}, found ${pythonType(value)} ${shown}`);
    }
  };
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
    ['data', ['str', 'NoneType'], 'a relative path or null']
  ];
  for (const [key, kinds, what] of optional) {
    expect(`flavors.python_function.${key}`, pyfunc[key], kinds, what);
  }
  for (const [name, entry] of Object.entries((pyfunc.artifacts as Mapping) || {})) {
    const key = `flavors.python_function.artifacts.${name}`;
    expect(key, entry, ['dict'], "a mapping with a 'path'");
    expect(`${key}.path`, (entry as Mapping).path, ['str'], 'a relative path');
  }
  const signature = top.signature;
  expect('signature', signature, ['dict', 'NoneType'], 'a mapping of JSON strings');
  if (signature) {
    for (const part of ['inputs', 'outputs', 'params']) {
      expect(
        `signature.${part}`,
        (signature as Mapping)[part],
        ['str', 'NoneType'],
        'a JSON string or null'
      );
    }
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
 * A type of a signature's JSON, written as `pyfunc_jupyter._schema._type_repr` writes it.
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
            `${name}: ${typeRepr(p)}` +
            (isMapping(p) && p.required === false ? ' (optional)' : '')
        );
      return '{' + props.join(', ') + '}';
    }
    case 'map':
      return `Map(str -> ${typeRepr(spec.values)})`;
    case 'any':
      return 'Any';
    default:
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
 * The signature tables of an MLmodel's `signature` mapping (as `_carddata.signature_tables`).
 *
 * @param signature - the mapping of JSON strings, or `null`
 * @returns the tables, or `null` when there is no signature
 */
export function signatureTables(signature: Value): ISignatureTables | null {
  if (!isMapping(signature)) {
    return null;
  }
  return {
    inputs: schemaRows(signature.inputs),
    outputs: schemaRows(signature.outputs),
    params: paramRows(signature.params)
  };
}

/**
 * A param default as Python prints it: JSON drops the `.0` of a float param's whole numbers.
 *
 * @param value - the default, or an element of a list default
 * @param type - the param's type
 * @returns its Python repr
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
          p => `${p.name}: ${p.type.replace(/ \[-1\]$/, '')} = ${floatRepr(p.default as Value, p.type)}`
        )
        .join(', ');
  }
  return text;
}

/**
 * A PEP 503 normalised distribution name.
 */
function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const REQUIREMENT_NAME = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/;

/**
 * The `requirements.txt` lines with where each came from (as `_carddata._requirements`).
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
      const reasons = inferred.get(key)!.reasons;
      source =
        Array.isArray(reasons) && reasons.length
          ? 'inferred: ' + reasons.join('; ')
          : 'inferred';
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

/**
 * Keys of the sidecar the listing and the card read, with their types (`_store._SIDECAR_TYPES`).
 */
const SIDECAR_TYPES: [string, string][] = [
  ['created', 'str'],
  ['run_id', 'str'],
  ['artifact_name', 'str'],
  ['source', 'str'],
  ['signature_summary', 'str'],
  ['size_bytes', 'int'],
  ['name', 'str']
];

/**
 * Why a parsed sidecar cannot be used (a key of the wrong type), or `null`.
 */
function sidecarTypeError(side: Mapping): string | null {
  for (const [key, kind] of SIDECAR_TYPES) {
    const value = side[key];
    if (value !== null && value !== undefined && pythonType(value) !== kind) {
      return `unreadable ${SIDECAR}: '${key}' should be a ${kind}, found ${pythonType(value)}`;
    }
  }
  return null;
}

/**
 * An MLmodel fact as text (`_store.text_or_none`): a number as text; a list, mapping or flag is `null`.
 */
function textOrNull(value: Value): string | null {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' ? String(value) : null;
}

/**
 * Join contents-API path parts.
 */
function join(...parts: string[]): string {
  return parts
    .filter(p => p !== '')
    .join('/')
    .replace(/\/+/g, '/');
}

/**
 * The message of a failed request.
 */
function reasonOf(reason: unknown): string {
  const response = (reason as { response?: { status?: number } }).response;
  if (response && response.status === 404) {
    return 'not found';
  }
  const message = (reason as { message?: string }).message;
  return message ? message.split('\n')[0] : String(reason);
}

/**
 * Run `task` over `items` with at most `limit` at a time, keeping the order.
 */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(new Array(Math.min(limit, items.length)).fill(0).map(worker));
  return results;
}

/**
 * The local model store under the Jupyter root, read through the contents API.
 */
export class ModelStore {
  /**
   * @param contents - the contents manager (`app.serviceManager.contents`)
   * @param storeDir - the store folder relative to the Jupyter root (default `models`)
   */
  constructor(contents: Contents.IManager, storeDir = 'models') {
    this._contents = contents;
    this.storeDir = storeDir.replace(/^\/+|\/+$/g, '');
  }

  /**
   * The store folder, relative to the Jupyter root.
   */
  readonly storeDir: string;

  /**
   * Every model and version in the store; broken versions carry `error` instead of failing.
   *
   * @returns the listing (an empty one when the store folder does not exist)
   */
  async list(): Promise<IStoreListing> {
    const listing: IStoreListing = {
      storeDir: this.storeDir,
      exists: false,
      models: [],
      error: null
    };
    let root: Contents.IModel;
    try {
      // Look in the parent first: a missing store is the usual first state, not a 404.
      const slash = this.storeDir.lastIndexOf('/');
      const parent = await this._contents.get(slash < 0 ? '' : this.storeDir.slice(0, slash), {
        content: true
      });
      const base = this.storeDir.slice(slash + 1);
      if (!(parent.content as Contents.IModel[]).some(c => c.name === base)) {
        return listing;
      }
      root = await this._contents.get(this.storeDir, { content: true });
    } catch (reason) {
      if (reasonOf(reason) !== 'not found') {
        listing.error = `Could not list ${this.storeDir}/: ${reasonOf(reason)}`;
      }
      return listing;
    }
    if (root.type !== 'directory') {
      listing.error = `${this.storeDir} is a ${root.type}, not a folder of models.`;
      return listing;
    }
    listing.exists = true;
    const names = (root.content as Contents.IModel[])
      .filter(c => c.type === 'directory' && !c.name.startsWith('.'))
      .map(c => c.name)
      .sort();
    listing.models = await mapLimited(names, 4, name => this._model(name));
    return listing;
  }

  /**
   * The card of one version, built from its files.
   *
   * @param name - the model name
   * @param version - the version
   * @returns the card data and volatile facts
   * @throws when the version has no readable, valid MLmodel
   */
  async card(name: string, version: number): Promise<IStoredCard> {
    if (!isModelName(name)) {
      throw new Error(
        `${pythonRepr(name)} is not a valid model name (letters, digits, '.', '_', '-'); rename the folder`
      );
    }
    if (!isVersionName(String(version))) {
      throw new Error(`${pythonRepr(String(version))} is not a version folder (ASCII digits).`);
    }
    const dir = join(this.storeDir, name, String(version));
    const files = await this._walk(dir, '');
    const names = new Set(files.map(f => f.path));
    if (!names.has('MLmodel')) {
      throw new Error(`${dir} has no MLmodel file: it is not a model directory.`);
    }
    const mlmodelPath = join(dir, 'MLmodel');
    const mlmodel = parseMlmodel(mlmodelPath, await this._text(mlmodelPath));
    const flavor = (mlmodel.flavors as Mapping).python_function as Mapping;
    let side: Mapping | null = null;
    if (names.has(SIDECAR)) {
      try {
        const parsed = JSON.parse(await this._text(join(dir, SIDECAR)));
        side = isMapping(parsed) && !sidecarTypeError(parsed) ? parsed : null;
      } catch {
        side = null; // as the kernel's card: an unreadable sidecar is ignored here
      }
    }
    let requirementsText: string | null = null;
    if (names.has('requirements.txt')) {
      try {
        requirementsText = await this._text(join(dir, 'requirements.txt'));
      } catch {
        requirementsText = null;
      }
    }
    const { rows, pins } = requirementRows(requirementsText, side);
    const kept = side && isMapping(side.card) ? side.card : {};
    const checks = Array.isArray(kept.checks) ? (kept.checks as ICardData['checks']) : [];
    const state = Array.isArray(kept.state) ? (kept.state as Mapping[]).filter(isMapping) : [];
    const stateSizes: { [attribute: string]: number } = {};
    for (const row of state) {
      if (typeof row.bytes === 'number') {
        stateSizes[row.attribute as string] = row.bytes;
      }
    }
    const sizes: { [path: string]: number } = {};
    for (const file of files) {
      sizes[file.path] = file.size;
    }
    const artifacts = Object.entries((flavor.artifacts as Mapping) || {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, spec]) => ({ key, path: ((spec as Mapping).path as string) ?? null }));
    const data: ICardData = {
      schema: 1,
      status: 'saved',
      name,
      version,
      uri: `models:/${name}/${version}`,
      model: typeof kept.model === 'string' ? kept.model : null,
      signature: mlmodel.signature ? signatureTables(mlmodel.signature) : null,
      requirements: rows,
      artifacts,
      files: files.map(f => ({ path: f.path })),
      state: state.map(row => ({ attribute: row.attribute as string, type: row.type as string })),
      checks,
      summary: {
        errors: checks.filter(c => c.severity === 'error').length,
        warnings: checks.filter(c => c.severity === 'warning').length
      },
      preview: isMapping(kept.preview) ? (kept.preview as unknown as ICardData['preview']) : null
    };
    const volatile: IVolatile = {
      path: dir,
      created: textOrNull(mlmodel.utc_time_created),
      model_uuid: textOrNull(mlmodel.model_uuid),
      run_id: textOrNull(mlmodel.run_id),
      python_version: textOrNull(flavor.python_version),
      cloudpickle_version: textOrNull(flavor.cloudpickle_version),
      pins,
      sizes,
      state_sizes: stateSizes,
      total_bytes: files.reduce((total, f) => total + f.size, 0),
      model_size_bytes:
        typeof mlmodel.model_size_bytes === 'number' ? mlmodel.model_size_bytes : null,
      timings: {}
    };
    return { data, volatile };
  }

  /**
   * Whether the version folder exists, found by listing its parents (so a missing one is no 404).
   *
   * @param name - the model name
   * @param version - the version
   */
  async hasVersion(name: string, version: number): Promise<boolean> {
    const listed = async (dir: string, child: string): Promise<boolean> => {
      const folder = await this._contents.get(dir, { content: true });
      return (folder.content as Contents.IModel[]).some(
        c => c.name === child && c.type === 'directory'
      );
    };
    const slash = this.storeDir.lastIndexOf('/');
    const parent = slash < 0 ? '' : this.storeDir.slice(0, slash);
    return (
      (await listed(parent, this.storeDir.slice(slash + 1))) &&
      (await listed(this.storeDir, name)) &&
      (await listed(join(this.storeDir, name), String(version)))
    );
  }

  /**
   * One model folder: its versions, newest first.
   */
  private async _model(name: string): Promise<IStoreModel> {
    const model: IStoreModel = { name, versions: [], error: null };
    let folder: Contents.IModel;
    try {
      folder = await this._contents.get(join(this.storeDir, name), { content: true });
    } catch (reason) {
      model.error = `Could not list the folder: ${reasonOf(reason)}`;
      return model;
    }
    const versions = (folder.content as Contents.IModel[])
      .filter(c => c.type === 'directory' && isVersionName(c.name))
      .map(c => Number(c.name))
      .sort((a, b) => b - a);
    if (!versions.length) {
      model.error = 'no version folders (1, 2, ...): not a model saved in this store';
      return model;
    }
    model.versions = await mapLimited(versions, 4, v => this._version(name, v));
    if ((folder.content as Contents.IModel[]).some(c => c.name === REGISTRY_FILE)) {
      await this._registry(name, model.versions);
    }
    return model;
  }

  /**
   * Add descriptions, tags and aliases from the model's `registry.json` (an unreadable file
   * never fails the listing, as on the Python side).
   */
  private async _registry(name: string, versions: IStoreVersion[]): Promise<void> {
    let registry: Value;
    try {
      registry = JSON.parse(await this._text(join(this.storeDir, name, REGISTRY_FILE)));
    } catch {
      return;
    }
    if (!isMapping(registry)) {
      return;
    }
    const perVersion = isMapping(registry.versions) ? registry.versions : {};
    const aliases = isMapping(registry.aliases) ? registry.aliases : {};
    for (const entry of versions) {
      const meta = perVersion[String(entry.version)];
      if (isMapping(meta)) {
        entry.description = typeof meta.description === 'string' ? meta.description : null;
        entry.tags = isMapping(meta.tags)
          ? Object.fromEntries(Object.entries(meta.tags).map(([k, v]) => [k, String(v)]))
          : {};
      }
      entry.aliases = Object.entries(aliases)
        .filter(([, v]) => String(v) === String(entry.version))
        .map(([alias]) => alias)
        .sort();
    }
  }

  /**
   * One version as listed (as `_store._entry`, and its MLmodel is always checked).
   */
  private async _version(name: string, version: number): Promise<IStoreVersion> {
    const path = join(this.storeDir, name, String(version));
    const entry: IStoreVersion = {
      name,
      version,
      path,
      uri: `models:/${name}/${version}`,
      created: null,
      signatureSummary: null,
      sizeBytes: null,
      error: null
    };
    if (!isModelName(name)) {
      // as `_store._entry`: listed, never read (its URI could not be loaded)
      entry.error = `${pythonRepr(name)} is not a valid model name (letters, digits, '.', '_', '-'); rename the folder`;
      return entry;
    }
    try {
      const folder = await this._contents.get(path, { content: true });
      const names = new Set((folder.content as Contents.IModel[]).map(c => c.name));
      if (!names.has('MLmodel')) {
        entry.error = 'no MLmodel file: not a model directory';
        return entry;
      }
      const [mlmodelText, sideText] = await Promise.all([
        this._text(join(path, 'MLmodel')),
        names.has(SIDECAR) ? this._text(join(path, SIDECAR)) : Promise.resolve(null)
      ]);
      const mlmodel = parseMlmodel(join(path, 'MLmodel'), mlmodelText);
      if (sideText !== null) {
        let side: Value;
        try {
          side = JSON.parse(sideText);
        } catch (reason) {
          entry.error = `unreadable ${SIDECAR}: ${reasonOf(reason)}`;
          return entry;
        }
        if (!isMapping(side)) {
          entry.error = `unreadable ${SIDECAR}: expected a JSON object, found ${pythonType(side)}`;
          return entry;
        }
        const wrong = sidecarTypeError(side);
        if (wrong) {
          entry.error = wrong;
          return entry;
        }
        entry.created = (side.created as string) ?? null;
        entry.signatureSummary = (side.signature_summary as string) ?? null;
        entry.sizeBytes = typeof side.size_bytes === 'number' ? side.size_bytes : null;
        return entry;
      }
      entry.created = textOrNull(mlmodel.utc_time_created);
      entry.sizeBytes =
        typeof mlmodel.model_size_bytes === 'number' ? mlmodel.model_size_bytes : null;
      if (mlmodel.signature) {
        try {
          const tables = signatureTables(mlmodel.signature);
          entry.signatureSummary = tables ? signatureSummary(tables) : null;
        } catch (reason) {
          entry.error = `unreadable signature: ${reasonOf(reason)}`;
        }
      }
    } catch (reason) {
      entry.error = reasonOf(reason);
    }
    return entry;
  }

  /**
   * Every file under a folder with its size, in `os.walk` order (files, then sorted folders).
   */
  private async _walk(
    dir: string,
    relative: string
  ): Promise<{ path: string; size: number }[]> {
    const folder = await this._contents.get(join(dir, relative), { content: true });
    const children = (folder.content as Contents.IModel[])
      .slice()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files = children
      .filter(c => c.type !== 'directory')
      .map(c => ({ path: join(relative, c.name), size: c.size ?? 0 }));
    for (const sub of children.filter(c => c.type === 'directory')) {
      files.push(...(await this._walk(dir, join(relative, sub.name))));
    }
    return files;
  }

  /**
   * A file's text.
   */
  private async _text(path: string): Promise<string> {
    const model = await this._contents.get(path, {
      type: 'file',
      format: 'text',
      content: true
    });
    return String(model.content);
  }

  private _contents: Contents.IManager;
}
