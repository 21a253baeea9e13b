/**
 * The model card's DOM, drawn from its data (the JSON the kernel sends, or the side panel builds
 * from a model directory with `cardbuilder.ts`).
 *
 * The sections and their wording mirror the HTML fallback written by
 * `pyfunc_jupyter/card/render.py`, so the renderer and the fallback show the same facts.
 */
import type {
  ICardData,
  IColumnRow,
  IParamRow,
  IPreview,
  IServe,
  ISignatureTables,
  IVolatile
} from './cardschema'; // generated from pyfunc_jupyter/card/card.schema.json (the one definition)

/**
 * The MIME type of a model card.
 */
export const MIME_TYPE = 'application/vnd.pyfunc-jupyter.model+json';

/**
 * The CSS class of a rendered model card.
 */
export const CLASS_NAME = 'jp-PyfuncModelCard';

/**
 * The DOM event dispatched on `document` when a saved model's card is drawn (detail: its
 * `uri`), so that the Models panel can show a model saved a moment ago.
 */
export const CARD_DRAWN_EVENT = 'pyfunc-jupyter:card-drawn';

const STATUS_MARK: { [status: string]: string } = {
  reference: '',
  match: '✓ match',
  mismatch: '✗ mismatch',
  error: '✗ failed',
  missing: '–'
};

const STATUS_CLASS: { [status: string]: string } = {
  reference: 'muted',
  match: 'ok',
  mismatch: 'error',
  error: 'error',
  missing: 'muted'
};

/**
 * Bytes as B, KB, MB or GB, written as the Python side writes them.
 *
 * @param size - a size in bytes, or `null`/`undefined` when unknown
 * @returns `512 B`, `4.3 KB`, ... or `?`
 */
export function formatSize(size: number | null | undefined): string {
  if (size === null || size === undefined || typeof size !== 'number') {
    return '?';
  }
  let value = size;
  for (const unit of ['B', 'KB', 'MB', 'GB']) {
    if (value < 1024 || unit === 'GB') {
      return unit === 'B' ? `${Math.trunc(value)} B` : `${value.toFixed(1)} ${unit}`;
    }
    value /= 1024;
  }
  return `${value.toFixed(1)} GB`;
}

/**
 * A number written as Python's `format(value, '.10g')` writes it.
 */
function formatG10(value: number): string {
  if (!Number.isFinite(value)) {
    return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  }
  if (value === 0) {
    return Object.is(value, -0) ? '-0' : '0';
  }
  const strip = (text: string): string =>
    text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  const [mantissa, exponentText] = value.toExponential(9).split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 10) {
    const sign = exponent < 0 ? '-' : '+';
    return `${strip(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return strip(value.toFixed(Math.max(0, 9 - exponent)));
}

/**
 * JSON as Python's `json.dumps` writes it (`[1, 2]`, `{"a": 1}`).
 */
function pythonJson(value: unknown): string {
  if (value === null || value === undefined) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return '[' + value.map(pythonJson).join(', ') + ']';
  }
  if (typeof value === 'object') {
    return (
      '{' +
      Object.entries(value as { [key: string]: unknown })
        .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
        .join(', ') +
      '}'
    );
  }
  return JSON.stringify(value);
}

/**
 * A cell value as text, as the HTML fallback writes it.
 *
 * @param value - any JSON value
 * @returns `null` for null, numbers to 10 significant digits, strings as they are, else JSON
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return 'null';
  }
  if (typeof value === 'number') {
    // JSON does not tell 5 from 5.0; integers print the same either way below 1e10.
    return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : formatG10(value);
  }
  if (typeof value === 'string') {
    return value;
  }
  return pythonJson(value);
}

/**
 * A param's default; a float param's whole-number default keeps its decimal point, which JSON loses.
 *
 * @param param - a row of the signature's params
 * @returns the default as the card shows it
 */
export function paramDefault(param: IParamRow): string {
  const value = param.default;
  if (!isFloatType(param.type)) {
    return cellText(value);
  }
  if (Array.isArray(value)) {
    // A list param, as Python's json.dumps writes it: [1.0, 2.5].
    return '[' + value.map(v => (isWholeNumber(v) ? v.toFixed(1) : pythonJson(v))).join(', ') + ']';
  }
  return isWholeNumber(value) ? value.toFixed(1) : cellText(value);
}

/**
 * Whether a signature type (`double`, `float [-1]`...) holds floats, whose whole numbers JSON writes as integers.
 *
 * @param type - a column or param type as the card data gives it
 * @returns true for double and float, with or without a shape
 */
export function isFloatType(type: string): boolean {
  const base = type.split(' ')[0];
  return base === 'double' || base === 'float';
}

/**
 * Whether a JSON value is a number that Python would print with a `.0` if it were a float.
 *
 * @param value - any JSON value
 * @returns true for whole numbers below 1e16
 */
export function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e16;
}

/**
 * Create an element with classes and text.
 */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  classes: string[] = [],
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const name of classes) {
    node.classList.add(name);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/**
 * The modifier class of a state (`ok`, `error`, `warning`, `muted`, `diff`).
 */
function mod(state: string): string {
  return `${CLASS_NAME}-${state}`;
}

/**
 * A table with a header row; `classes[r][c]` marks cells.
 */
function table(header: string[], rows: unknown[][], classes?: string[][]): HTMLTableElement {
  const node = el('table', [`${CLASS_NAME}-table`]);
  const head = node.createTHead().insertRow();
  for (const label of header) {
    head.appendChild(el('th', [], label));
  }
  const body = node.createTBody();
  rows.forEach((row, r) => {
    const tr = body.insertRow();
    row.forEach((value, c) => {
      const css = classes ? classes[r][c] : '';
      tr.appendChild(el('td', css ? [mod(css)] : [], cellText(value)));
    });
  });
  return node;
}

/**
 * An MLmodel `utc_time_created` (UTC, microseconds) in the browser's local time, to the second.
 *
 * @param created - `2026-12-03 07:36:01.123456` (UTC)
 * @returns `2026-12-03 08:36:01` and the zone's short name, or the text as it was when unreadable
 */
export function formatTime(created: string | null | undefined): string {
  if (!created) {
    return '?';
  }
  const match = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(created);
  if (!match) {
    return created;
  }
  const [, y, mo, d, h, mi, se] = match.map(Number);
  const moment = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  const pad = (n: number): string => String(n).padStart(2, '0');
  const zone =
    new Intl.DateTimeFormat('en', { timeZoneName: 'short' })
      .formatToParts(moment)
      .find(part => part.type === 'timeZoneName')?.value ?? '';
  return (
    `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ` +
    `${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` +
    (zone ? ` ${zone}` : '')
  );
}

/**
 * A requirement's source with each module named once:
 * `inferred: pandas: a; pandas: b` becomes `inferred: pandas: a, b` (as the HTML fallback writes it).
 *
 * @param source - the card's `source` of a requirement
 */
export function provenance(source: string): string {
  const prefix = 'inferred: ';
  if (!source.startsWith(prefix)) {
    return source;
  }
  const grouped = new Map<string, string[]>();
  for (const reason of source.slice(prefix.length).split('; ')) {
    const at = reason.indexOf(': ');
    const [key, why] = at >= 0 ? [reason.slice(0, at), reason.slice(at + 2)] : ['', reason];
    const whys = grouped.get(key) ?? [];
    if (!whys.includes(why)) {
      whys.push(why);
    }
    grouped.set(key, whys);
  }
  return (
    prefix +
    Array.from(grouped.entries())
      .map(([key, whys]) => (key ? `${key}: ` : '') + whys.join(', '))
      .join('; ')
  );
}

/**
 * A cell of a column whose signature type is a float: whole numbers keep their decimal point
 * (JSON, and so the payload, does not tell 1 from 1.0).
 */
function floatCell(value: unknown, type: string | undefined): unknown {
  return type && isFloatType(type) && isWholeNumber(value) ? value.toFixed(1) : value;
}

/**
 * The signature type of each named column.
 */
function columnTypes(rows: IColumnRow[] | null | undefined): Map<string, string> {
  const types = new Map<string, string>();
  for (const row of rows || []) {
    types.set(row.name === null || row.name === undefined ? 'value' : String(row.name), row.type);
  }
  if ((rows || []).length === 1) {
    types.set('value', rows![0].type); // one unnamed output column is shown as "value"
  }
  return types;
}

/**
 * A section heading.
 */
function heading(text: string): HTMLHeadingElement {
  return el('h4', [`${CLASS_NAME}-heading`], text);
}

function renderHead(data: ICardData, volatile: IVolatile): HTMLElement[] {
  const status = data.status || '';
  const version = data.version !== null && data.version !== undefined ? ` v${data.version}` : '';
  const head = el('div', [`${CLASS_NAME}-header`]);
  head.appendChild(el('span', [`${CLASS_NAME}-title`], `${data.name || 'model'}${version}`));
  head.appendChild(
    el('span', [`${CLASS_NAME}-badge`, mod(status === 'not saved' ? 'error' : 'ok')], status)
  );
  const facts: unknown[] = [data.model, data.uri, volatile.path];
  if (volatile.model_size_bytes !== null && volatile.model_size_bytes !== undefined) {
    facts.push(`model size ${formatSize(volatile.model_size_bytes)}`);
  }
  if (volatile.created) {
    facts.push(`created ${formatTime(volatile.created)}`);
  }
  const line = el(
    'div',
    [`${CLASS_NAME}-facts`, mod('muted')],
    facts
      .filter(f => f)
      .map(f => String(f))
      .join(' · ')
  );
  return [head, line];
}

function renderChecks(data: ICardData): HTMLElement[] {
  const checks = data.checks || [];
  if (!checks.length) {
    return [heading('Checks'), el('div', [mod('ok')], '✓ no problems found')];
  }
  const summary = data.summary || { errors: 0, warnings: 0 };
  const list = el('ul', [`${CLASS_NAME}-checks`]);
  for (const check of checks) {
    const item = el('li', [`${CLASS_NAME}-check`]);
    item.dataset.severity = check.severity;
    item.appendChild(el('span', [mod(check.severity)], check.severity));
    item.appendChild(document.createTextNode(' '));
    item.appendChild(el('code', [], check.check));
    item.appendChild(document.createTextNode(`: ${check.message}`));
    item.appendChild(el('br'));
    item.appendChild(el('span', [mod('muted')], `Fix: ${check.fix}`));
    list.appendChild(item);
  }
  return [
    heading(`Checks: ${summary.errors ?? 0} error(s), ${summary.warnings ?? 0} warning(s)`),
    list
  ];
}

function renderPreview(
  preview: IPreview | null,
  signature: ISignatureTables | null = null
): HTMLElement[] {
  if (!preview) {
    return [];
  }
  const input = preview.input;
  const header = input.columns.map(c => `input: ${c}`);
  const inputTypes = columnTypes(signature?.inputs);
  const outputTypes = columnTypes(signature?.outputs);
  const rows: unknown[][] = input.rows.map(r =>
    r.map((v, c) => floatCell(v, inputTypes.get(String(input.columns[c]))))
  );
  const classes: string[][] = rows.map(r => r.map(() => ''));
  const title = heading('Preview: ');
  preview.outputs.forEach((output, index) => {
    const status = output.status;
    if (index > 0) {
      title.appendChild(document.createTextNode(' · '));
    }
    title.appendChild(
      el(
        'span',
        [mod(STATUS_CLASS[status] ?? 'muted')],
        `${output.label} ${STATUS_MARK[status] ?? status}`
      )
    );
    if (status === 'error' || status === 'missing' || !output.table) {
      header.push(output.label);
      rows.forEach((row, r) => {
        row.push(r === 0 ? (output.error ?? '') : '');
        classes[r].push(status === 'error' ? 'error' : '');
      });
      return;
    }
    const out = output.table;
    const diff = new Set((output.diff || []).map(d => `${d[0]},${d[1]}`));
    for (const column of out.columns) {
      header.push(output.label + (column === 'value' ? '' : `: ${column}`));
    }
    const width = out.columns.length;
    while (rows.length < out.rows.length) {
      rows.push(new Array(header.length - width).fill(''));
      classes.push(new Array(header.length - width).fill(''));
    }
    for (let r = 0; r < rows.length; r++) {
      const values =
        r < out.rows.length
          ? out.rows[r].map((v, c) => floatCell(v, outputTypes.get(String(out.columns[c]))))
          : new Array(width).fill('');
      rows[r].push(...values);
      for (let c = 0; c < width; c++) {
        classes[r].push(diff.has(`${r},${c}`) ? 'diff' : '');
      }
    }
  });
  const totals = [input.total_rows || 0].concat(
    preview.outputs.filter(o => o.table).map(o => o.table!.total_rows || 0)
  );
  const more = Math.max(...totals);
  const nodes: HTMLElement[] = [title, table(header, rows, classes)];
  if (more > rows.length) {
    nodes.push(el('div', [mod('muted')], `first ${input.rows.length} of ${more} rows`));
  }
  return nodes;
}

/**
 * A word quoted for a POSIX shell, as Python's `shlex.quote` quotes it.
 *
 * @param text - any string
 * @returns the text itself when it holds only safe characters, else single-quoted
 */
export function shellQuote(text: string): string {
  if (text && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) {
    return text;
  }
  return "'" + text.replace(/'/g, "'\"'\"'") + "'";
}

/**
 * The `mlflow models serve` command and the `curl` line, as `card/data.py`'s `serve_lines` writes them.
 *
 * @param serve - the card's serving facts
 * @param location - the model directory (the volatile path)
 * @param uri - the card's `models:/` URI, if any
 * @param trackingUri - the tracking server the version is registered in (volatile), if any: the
 *   command then serves the version from the registry instead of this machine's download
 * @returns the lines, or `null` when either is unknown
 */
export function serveLines(
  serve: IServe | null | undefined,
  location: string | null | undefined,
  uri?: string | null,
  trackingUri?: string | null
): { serve: string; curl?: string } | null {
  if (!serve || !location) {
    return null;
  }
  let prefix = '';
  let source = location;
  if (trackingUri && uri && uri.startsWith('models:/')) {
    // a registered version: served from the registry
    prefix = `MLFLOW_TRACKING_URI=${shellQuote(trackingUri)} `;
    source = uri;
  }
  const lines: { serve: string; curl?: string } = {
    serve:
      `${prefix}mlflow models serve -m ${shellQuote(source)} --env-manager ${serve.env_manager} ` +
      `--host ${serve.host} --port ${serve.port}`
  };
  if (serve.input) {
    const example = location.replace(/\/+$/, '') + '/' + serve.input;
    lines.curl =
      `curl -s -X POST http://${serve.host}:${serve.port}/invocations ` +
      `-H 'Content-Type: application/json' --data ${shellQuote('@' + example)}`;
  }
  return lines;
}

const NO_SERVING_EXAMPLE =
  'no serving_input_example.json: save the model with an input example to get a curl line';

function renderServe(data: ICardData, volatile: IVolatile): HTMLElement[] {
  const lines = serveLines(data.serve, volatile.path, data.uri, volatile.tracking_uri);
  if (!lines) {
    return [];
  }
  const nodes: HTMLElement[] = [
    heading('Serve with MLflow'),
    el('pre', [`${CLASS_NAME}-code`, `${CLASS_NAME}-command`], lines.serve)
  ];
  nodes.push(
    lines.curl !== undefined
      ? el('pre', [`${CLASS_NAME}-code`, `${CLASS_NAME}-command`], lines.curl)
      : el('div', [mod('muted')], NO_SERVING_EXAMPLE)
  );
  return nodes;
}

function renderSignature(signature: ISignatureTables | null): HTMLElement[] {
  if (!signature) {
    return [
      heading('Signature'),
      el('div', [mod('warning')], 'none: inputs are not checked when the model is loaded')
    ];
  }
  const nodes: HTMLElement[] = [heading('Signature')];
  for (const part of ['inputs', 'outputs'] as const) {
    const rows = signature[part];
    if (rows === null || rows === undefined) {
      nodes.push(el('div', [mod('muted')], `${part}: not declared`));
    } else {
      nodes.push(el('div', [`${CLASS_NAME}-label`], part));
      nodes.push(
        table(
          ['name', 'type', 'required'],
          rows.map(r => [r.name ?? '(unnamed)', r.type, r.required])
        )
      );
    }
  }
  if (signature.params !== null && signature.params !== undefined) {
    nodes.push(el('div', [`${CLASS_NAME}-label`], 'params'));
    nodes.push(
      table(
        ['name', 'type', 'default'],
        signature.params.map(p => [p.name, p.type, paramDefault(p)])
      )
    );
  }
  return nodes;
}

function renderRequirements(data: ICardData, volatile: IVolatile): HTMLElement[] {
  const rows = data.requirements || [];
  if (!rows.length) {
    return [];
  }
  const pins = volatile.pins || {};
  return [
    heading('Requirements'),
    table(
      ['requirement', 'from'],
      rows.map(r => [pins[r.name] ?? r.name, provenance(r.source)])
    )
  ];
}

/**
 * The size of a file or of every file under a folder, from the card's sizes.
 */
function treeSize(sizes: { [path: string]: number }, path: string | null): number | null {
  if (!path) {
    return null;
  }
  const prefix = path.replace(/\/+$/, '') + '/';
  return Object.entries(sizes)
    .filter(([name]) => name === path || name.startsWith(prefix))
    .reduce((total, [, size]) => total + size, 0);
}

function renderFiles(data: ICardData, volatile: IVolatile): HTMLElement[] {
  const sizes = volatile.sizes || {};
  const nodes: HTMLElement[] = [];
  if (data.artifacts && data.artifacts.length) {
    nodes.push(heading('Artifacts'));
    nodes.push(
      table(
        ['key', 'path', 'size'],
        data.artifacts.map(a => [a.key, a.path, formatSize(treeSize(sizes, a.path))])
      )
    );
  }
  if (data.files && data.files.length) {
    const total =
      volatile.total_bytes !== null && volatile.total_bytes !== undefined
        ? ` (${formatSize(volatile.total_bytes)} on disk)`
        : '';
    nodes.push(heading(`Files${total}`));
    nodes.push(
      table(
        ['file', 'size'],
        data.files.map(f => [f.path, formatSize(sizes[f.path])])
      )
    );
  }
  if (data.code) {
    nodes.push(heading(`Code: ${data.code.path}`));
    nodes.push(el('pre', [`${CLASS_NAME}-code`], data.code.text ?? '(the file cannot be read)'));
  }
  if (data.state && data.state.length) {
    const stateSizes = volatile.state_sizes || {};
    nodes.push(heading('Pickled state'));
    nodes.push(
      table(
        ['attribute', 'type', 'size'],
        data.state.map(s => [`self.${s.attribute}`, s.type, formatSize(stateSizes[s.attribute])])
      )
    );
  }
  return nodes;
}

/**
 * Draw a model card.
 *
 * @param data - the card's stable content
 * @param volatile - paths, times, sizes (may be empty: a card still draws without them)
 * @returns the card's root element (class `jp-PyfuncModelCard`)
 */
export function renderCard(
  data: ICardData,
  volatile: IVolatile = {},
  options: { collapsed?: boolean } = {}
): HTMLElement {
  const root = el('div', [CLASS_NAME]);
  root.dataset.status = data.status;
  for (const node of renderHead(data, volatile)) {
    root.appendChild(node);
  }
  const sections = [
    ...renderChecks(data),
    ...renderPreview(data.preview, data.signature),
    ...renderServe(data, volatile),
    ...renderSignature(data.signature),
    ...renderRequirements(data, volatile),
    ...renderFiles(data, volatile)
  ];
  // Each heading opens a section that folds (<details>): all folded when `collapsed` (the
  // save/load panel), Files and Pickled state always folded.
  let body: HTMLElement = root;
  for (const node of sections) {
    if (node.tagName === 'H4') {
      const title = node.textContent || '';
      const name = SECTION_NAMES.find(([prefix]) => title.startsWith(prefix))?.[1] ?? '';
      const details = el('details', [`${CLASS_NAME}-section`]);
      details.dataset.section = name;
      details.open = !options.collapsed && name !== 'files' && name !== 'state';
      const summary = el('summary');
      summary.appendChild(node);
      details.appendChild(summary);
      root.appendChild(details);
      body = details;
    } else {
      body.appendChild(node);
    }
  }
  return root;
}

/**
 * Section headings (their start) and the name of their section (`data-section`, as in the HTML fallback).
 */
const SECTION_NAMES: [string, string][] = [
  ['Checks', 'checks'],
  ['Preview', 'preview'],
  ['Serve with MLflow', 'serve'],
  ['Signature', 'signature'],
  ['Requirements', 'requirements'],
  ['Artifacts', 'artifacts'],
  ['Files', 'files'],
  ['Code', 'code'],
  ['Pickled state', 'state']
];

/**
 * Draw a card whose data cannot be drawn (a newer schema, a malformed payload).
 *
 * @param problem - what is wrong
 * @returns an element saying so
 */
export function renderProblem(problem: string): HTMLElement {
  const root = el('div', [CLASS_NAME, `${CLASS_NAME}-broken`]);
  root.appendChild(el('div', [`${CLASS_NAME}-title`], 'Model card'));
  root.appendChild(el('div', [mod('error')], problem));
  return root;
}
