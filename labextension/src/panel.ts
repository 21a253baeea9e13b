/**
 * The Models side panel: the local store's models and versions, a filter, and per version
 * "open its card" and "Insert load cell".
 */
import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { CARD_DRAWN_EVENT, formatSize } from './card';
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
  /** Insert `%pyfunc_load <uri>` below the active cell of the current notebook. */
  insertLoadCell(version: IStoreVersion): void;
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
 * A model's creation time to the minute (the full time is in the tooltip).
 */
function shortTime(created: string | null): string {
  return created ? created.replace('T', ' ').slice(0, 16) : 'created ?';
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

    this._filter = el('input', `${PANEL_CLASS}-filter jp-mod-styled`);
    this._filter.type = 'search';
    this._filter.placeholder = 'Filter by name or signature';
    this._filter.addEventListener('input', () => this._applyFilter());

    this._status = el('div', `${PANEL_CLASS}-status`);
    this._body = el('div', `${PANEL_CLASS}-body`);
    this.node.append(header, this._filter, this._status, this._body);
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
    void this.refresh();
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
    this._status.textContent =
      `${listing.storeDir}/ · ${listing.models.length} model(s), ${versions} version(s)` +
      (broken ? `, ${broken} broken` : '');
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
    item.dataset.searchText =
      `${version.name} ${version.uri} ${version.signatureSummary || ''}`.toLowerCase();
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
      meta.title = version.created ? `created ${version.created} UTC` : '';
      open.appendChild(meta);
      item.appendChild(open);
      item.appendChild(
        el('div', `${PANEL_CLASS}-signature`, version.signatureSummary || 'no signature')
      );
      const insert = el('button', `${PANEL_CLASS}-insert`);
      insert.textContent = 'Insert load cell';
      insert.title = `Add a "%pyfunc_load ${version.uri}" cell below the active cell`;
      insert.addEventListener('click', event => {
        event.stopPropagation();
        this._actions.insertLoadCell(version);
      });
      item.appendChild(insert);
    }
    open.addEventListener('click', () => this._actions.open(version));
    return item;
  }

  private _applyFilter(): void {
    const text = this._filter.value.trim().toLowerCase();
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
    }
  }

  private _actions: IModelsPanelActions;
  private _body: HTMLDivElement;
  private _filter: HTMLInputElement;
  private _generation = 0;
  private _listing: IStoreListing | null = null;
  private _pending = 0;
  private _status: HTMLDivElement;
  private _store: ModelStore;
}
