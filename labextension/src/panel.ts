/**
 * The Models side panel: the local store's models and versions, a filter, and per version
 * "open its card" and "Insert load cell".
 */
import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CARD_DRAWN_EVENT, formatSize, formatTime } from './card';
import { IStoreListing, IStoreVersion, ModelStore } from './store';

/**
 * The CSS class of the panel.
 */
export const PANEL_CLASS = 'jp-PyfuncModelsPanel';

/**
 * The panel's icon (a box), themed with JupyterLab's icon colours.
 */
export const modelsIcon = new LabIcon({
  name: 'pyfunc-jupyter:models',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M12 2 3 7v10l9 5 9-5V7l-9-5zm0 2.3 6.5 3.6L12 ' +
    '11.5 5.5 7.9 12 4.3zM5 9.6l6 3.3v6.8l-6-3.3V9.6zm8 10.1v-6.8l6-3.3v6.8l-6 3.3z"/></svg>'
});

/**
 * What the panel does when a version is chosen.
 */
export interface IModelsPanelActions {
  /** Open the version's card in the main area. */
  open(version: IStoreVersion): void;
  /** Insert `%pyfunc_load <uri> --as <name>` below the active cell of the current notebook. */
  insertLoadCell(version: IStoreVersion): void;
  /** Insert a cell that manages the version through the Python API (run by the user). */
  insertManageCell(version: IStoreVersion, action: ManageAction): void;
  /** Show another store folder (relative to the Jupyter root). */
  chooseStore(storeDir: string): void;
}

/**
 * What a version's Manage menu can do: each inserts a cell calling `store/registry.py`.
 *
 * The side panel never writes `registry.json` itself: the kernel's writes take an exclusive
 * `flock`, which the browser cannot take, so a browser write could lose a kernel's change.
 */
export type ManageAction = 'describe' | 'tag' | 'alias' | 'delete';

const MANAGE_LABELS: [ManageAction, string][] = [
  ['describe', 'Set description…'],
  ['tag', 'Set a tag…'],
  ['alias', 'Set an alias…'],
  ['delete', 'Delete version…']
];

/**
 * A Python identifier derived from a version (`price`, v2 -> `price_v2`), for `--as`.
 *
 * @param version - the version
 * @returns a variable name
 */
export function variableName(version: { name: string; version: number }): string {
  let base = version.name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
  if (!/^[A-Za-z_]/.test(base)) {
    base = `model_${base}`;
  }
  return `${base}_v${version.version}`;
}

/**
 * The first-model hint shown for an empty or missing store: two cells.
 */
const FIRST_MODEL = [
  '%load_ext pyfunc_jupyter\nimport pandas as pd\nfrom pyfunc_jupyter import PythonModel',
  '%%pyfunc_model my_model --example "pd.DataFrame({\'x\': [1.0]})"\n' +
    'class MyModel(PythonModel):\n' +
    '    def predict(self, context, model_input):\n' +
    '        return 2 * model_input["x"]'
];

/**
 * Create an element with classes and text.
 */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/**
 * A model's creation time, local, to the second.
 */
function shortTime(created: string | null): string {
  return created ? formatTime(created) : 'created ?';
}

/**
 * The Models side panel.
 */
export class ModelsPanel extends Widget {
  /**
   * Construct the panel.
   *
   * @param store - the store to list
   * @param actions - what choosing a version does
   */
  constructor(store: ModelStore, actions: IModelsPanelActions) {
    super();
    this._store = store;
    this._actions = actions;
    this.addClass(PANEL_CLASS);

    const header = el('div', `${PANEL_CLASS}-header`);
    header.appendChild(el('span', `${PANEL_CLASS}-title`, 'Models'));
    const refresh = el('button', `${PANEL_CLASS}-refresh jp-Button jp-mod-minimal`);
    refresh.title = 'Refresh the list';
    refresh.setAttribute('aria-label', 'Refresh');
    refreshIcon.element({ container: refresh, tag: 'span' });
    refresh.addEventListener('click', () => void this.refresh());
    header.appendChild(refresh);

    this._storePicker = el('select', `${PANEL_CLASS}-stores jp-mod-styled`);
    this._storePicker.title = 'The store folder shown (relative to the Jupyter root)';
    this._storePicker.setAttribute('aria-label', 'Store folder');
    this._storePicker.addEventListener('change', () =>
      this._actions.chooseStore(this._storePicker.value)
    );

    this._filter = el('input', `${PANEL_CLASS}-filter jp-mod-styled`);
    this._filter.type = 'search';
    this._filter.placeholder = 'Filter by name or signature';
    this._filter.addEventListener('input', () => this._applyFilter());

    this._status = el('div', `${PANEL_CLASS}-status`);
    this._message = el('div', `${PANEL_CLASS}-message`);
    this._message.setAttribute('role', 'status');
    this._body = el('div', `${PANEL_CLASS}-body`);
    this.node.append(
      header,
      this._storePicker,
      this._filter,
      this._status,
      this._message,
      this._body
    );
    this.setStores([store.storeDir]);
    document.addEventListener(CARD_DRAWN_EVENT, this._onCardDrawn);
  }

  /**
   * Dispose of the panel.
   */
  dispose(): void {
    document.removeEventListener(CARD_DRAWN_EVENT, this._onCardDrawn);
    window.clearTimeout(this._pending);
    super.dispose();
  }

  /**
   * The store listed.
   */
  get store(): ModelStore {
    return this._store;
  }

  set store(store: ModelStore) {
    this._store = store;
    this.setStores(this._stores);
    void this.refresh();
  }

  /**
   * The store folders to choose from: the setting's and those of the open notebooks
   * (`models/` beside each, where its kernel saves by default).
   *
   * @param dirs - store folders relative to the Jupyter root
   */
  setStores(dirs: string[]): void {
    const all = Array.from(new Set([...dirs, this._store.storeDir])).sort();
    this._stores = all;
    this._storePicker.replaceChildren(
      ...all.map(dir => {
        const option = el('option', '', `${dir}/`);
        option.value = dir;
        return option;
      })
    );
    this._storePicker.value = this._store.storeDir;
    this._storePicker.hidden = all.length < 2;
  }

  /**
   * The store folders offered.
   */
  get stores(): string[] {
    return this._stores.slice();
  }

  /**
   * Whether a notebook is open to insert cells into (the insert buttons are disabled without one).
   */
  set canInsert(value: boolean) {
    this._canInsert = value;
    for (const button of Array.from(
      this._body.querySelectorAll<HTMLButtonElement | HTMLSelectElement>(
        `.${PANEL_CLASS}-insert, .${PANEL_CLASS}-manage`
      )
    )) {
      button.disabled = !value;
    }
    if (value && this._message.dataset.kind === 'no-notebook') {
      this.showMessage('');
    }
  }

  get canInsert(): boolean {
    return this._canInsert;
  }

  /**
   * Show a one-line message above the list (an empty text clears it).
   *
   * @param text - what to say
   * @param kind - why (`no-notebook`, `error`, `info`)
   */
  showMessage(text: string, kind = 'error'): void {
    this._message.textContent = text;
    this._message.dataset.kind = text ? kind : '';
  }

  /**
   * The last listing (`null` before the first).
   */
  get listing(): IStoreListing | null {
    return this._listing;
  }

  /**
   * Read the store again and redraw.
   *
   * @returns when the panel shows the new listing
   */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    this.node.classList.add('jp-mod-loading');
    this._status.textContent = `Reading ${this._store.storeDir}/…`;
    this.setStores(this._stores);
    let listing: IStoreListing;
    try {
      listing = await this._store.list();
    } catch (reason) {
      listing = {
        storeDir: this._store.storeDir,
        exists: false,
        models: [],
        error: `Could not list the store: ${reason}`
      };
    }
    if (generation !== this._generation || this.isDisposed) {
      return; // a newer refresh is under way
    }
    this._listing = listing;
    this._draw(listing);
    this.node.classList.remove('jp-mod-loading');
  }

  /**
   * Refresh each time the panel is shown.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  /**
   * A saved model's card was drawn (maybe one just saved): refresh soon, if shown.
   */
  private _onCardDrawn = (): void => {
    if (!this.isVisible) {
      return;
    }
    window.clearTimeout(this._pending);
    this._pending = window.setTimeout(() => void this.refresh(), 300);
  };

  private _draw(listing: IStoreListing): void {
    this._body.replaceChildren();
    const versions = listing.models.reduce((n, m) => n + m.versions.length, 0);
    const broken = listing.models.reduce(
      (n, m) => n + m.versions.filter(v => v.error).length + (m.error ? 1 : 0),
      0
    );
    this._counts = { models: listing.models.length, versions, broken };
    this._writeStatus(listing.models.length, versions);
    if (listing.error) {
      this._body.appendChild(el('div', `${PANEL_CLASS}-error`, listing.error));
    }
    if (!listing.models.length) {
      const hint = el('div', `${PANEL_CLASS}-hint`);
      hint.appendChild(
        el(
          'p',
          '',
          listing.exists
            ? `No models in ${listing.storeDir}/ yet.`
            : `No model store yet: ${listing.storeDir}/ does not exist under the Jupyter root.`
        )
      );
      hint.appendChild(
        el(
          'p',
          '',
          'Save a first model from a notebook in the Jupyter root ' +
            '(it goes to models/ beside the notebook), with two cells:'
        )
      );
      for (const cell of FIRST_MODEL) {
        hint.appendChild(el('pre', '', cell));
      }
      this._body.appendChild(hint);
      return;
    }
    const list = el('ul', `${PANEL_CLASS}-list`);
    for (const model of listing.models) {
      const item = el('li', `${PANEL_CLASS}-model`);
      item.dataset.name = model.name;
      const head = el('div', `${PANEL_CLASS}-modelName`);
      head.appendChild(el('span', '', model.name));
      head.appendChild(el('span', `${PANEL_CLASS}-count`, `${model.versions.length} version(s)`));
      item.appendChild(head);
      if (model.error) {
        item.classList.add('jp-mod-broken');
        item.appendChild(el('div', `${PANEL_CLASS}-reason`, `broken: ${model.error}`));
      }
      const versionList = el('ul', `${PANEL_CLASS}-versions`);
      for (const version of model.versions) {
        versionList.appendChild(this._versionItem(version));
      }
      item.appendChild(versionList);
      list.appendChild(item);
    }
    this._body.appendChild(list);
    this._applyFilter();
  }

  private _versionItem(version: IStoreVersion): HTMLLIElement {
    const item = el('li', `${PANEL_CLASS}-version`);
    item.dataset.uri = version.uri;
    item.dataset.searchText = [
      version.name,
      version.uri,
      version.signatureSummary || '',
      version.description || '',
      ...(version.aliases || []).map(a => `@${a}`),
      ...Object.entries(version.tags || {}).map(([k, v]) => `${k}=${v}`)
    ]
      .join(' ')
      .toLowerCase();
    const open = el('button', `${PANEL_CLASS}-open`);
    open.title = version.error
      ? `${version.uri} is broken: ${version.error}`
      : `Open the card of ${version.uri}`;
    open.appendChild(el('span', `${PANEL_CLASS}-versionLabel`, `v${version.version}`));
    if (version.error) {
      item.classList.add('jp-mod-broken');
      open.appendChild(el('span', `${PANEL_CLASS}-broken`, 'broken'));
      item.appendChild(open);
      item.appendChild(el('div', `${PANEL_CLASS}-reason`, version.error));
    } else {
      const meta = el(
        'span',
        `${PANEL_CLASS}-meta`,
        `${shortTime(version.created)} · ${formatSize(version.sizeBytes)}`
      );
      meta.title =
        (version.created ? `created ${version.created} UTC; ` : '') +
        "model size: MLmodel's model_size_bytes, as on the card";
      open.appendChild(meta);
      item.appendChild(open);
      item.appendChild(
        el('div', `${PANEL_CLASS}-signature`, version.signatureSummary || 'no signature')
      );
      const registry: string[] = [];
      if (version.aliases && version.aliases.length) {
        registry.push(version.aliases.map(a => `@${a}`).join(' '));
      }
      for (const [key, value] of Object.entries(version.tags || {})) {
        registry.push(`${key}=${value}`);
      }
      if (registry.length) {
        item.appendChild(el('div', `${PANEL_CLASS}-registry`, registry.join(' · ')));
      }
      if (version.description) {
        item.appendChild(el('div', `${PANEL_CLASS}-description`, version.description));
      }
      const actions = el('div', `${PANEL_CLASS}-actions`);
      const insert = el('button', `${PANEL_CLASS}-insert jp-Button jp-mod-minimal`);
      insert.textContent = 'Insert load cell';
      insert.disabled = !this._canInsert;
      insert.title =
        `Add a "%pyfunc_load ${version.uri} --as ${variableName(version)}" cell ` +
        'below the active cell of the current notebook (open a notebook first)';
      insert.addEventListener('click', event => {
        event.stopPropagation();
        this._actions.insertLoadCell(version);
      });
      const manage = el('select', `${PANEL_CLASS}-manage jp-mod-styled`);
      manage.title = 'Insert a cell that changes this version through the Python API';
      manage.setAttribute('aria-label', `Manage ${version.uri}`);
      manage.disabled = !this._canInsert;
      const prompt = el('option', '', 'Manage…');
      prompt.value = '';
      manage.appendChild(prompt);
      for (const [action, label] of MANAGE_LABELS) {
        const option = el('option', '', label);
        option.value = action;
        manage.appendChild(option);
      }
      manage.addEventListener('change', () => {
        const action = manage.value as ManageAction | '';
        manage.value = '';
        if (action) {
          this._actions.insertManageCell(version, action);
        }
      });
      actions.append(insert, manage);
      item.appendChild(actions);
    }
    open.addEventListener('click', () => this._actions.open(version));
    return item;
  }

  private _applyFilter(): void {
    const text = this._filter.value.trim().toLowerCase();
    let shownModels = 0;
    let shownVersions = 0;
    for (const model of Array.from(
      this._body.querySelectorAll<HTMLElement>(`.${PANEL_CLASS}-model`)
    )) {
      const nameMatches = (model.dataset.name || '').toLowerCase().includes(text);
      let shown = 0;
      for (const version of Array.from(
        model.querySelectorAll<HTMLElement>(`.${PANEL_CLASS}-version`)
      )) {
        const matches = !text || nameMatches || (version.dataset.searchText || '').includes(text);
        version.hidden = !matches;
        shown += matches ? 1 : 0;
      }
      model.hidden = !!text && !nameMatches && shown === 0;
      shownModels += model.hidden ? 0 : 1;
      shownVersions += shown;
    }
    if (this._counts) {
      this._writeStatus(shownModels, shownVersions, !!text);
    }
  }

  /**
   * The status line: the folder shown and what it holds (what the filter leaves, when filtering).
   */
  private _writeStatus(models: number, versions: number, filtered = false): void {
    const counts = this._counts!;
    const shown = filtered
      ? `${models} of ${counts.models} model(s), ${versions} of ${counts.versions} version(s) match`
      : `${counts.models} model(s), ${counts.versions} version(s)`;
    this._status.textContent =
      `Showing ${this._store.storeDir}/ · ${shown}` +
      (counts.broken ? `, ${counts.broken} broken` : '');
  }

  private _actions: IModelsPanelActions;
  private _body: HTMLDivElement;
  private _canInsert = false;
  private _counts: { models: number; versions: number; broken: number } | null = null;
  private _message: HTMLDivElement;
  private _storePicker: HTMLSelectElement;
  private _stores: string[] = [];
  private _filter: HTMLInputElement;
  private _generation = 0;
  private _listing: IStoreListing | null = null;
  private _pending = 0;
  private _status: HTMLDivElement;
  private _store: ModelStore;
}
