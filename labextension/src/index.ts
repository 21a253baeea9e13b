/**
 * The pyfunc-jupyter JupyterLab plugins: the Models side panel and its commands.
 *
 * The card renderer is the MIME extension in `mime.ts`.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Panel, Widget } from '@lumino/widgets';

import { MIME_TYPE, renderProblem } from './card';
import { ModelCardRenderer } from './mime';
import { ManageAction, ModelsPanel, modelsIcon, variableName } from './panel';
import { IStoreVersion, ModelStore } from './store';

/**
 * The command ids.
 */
export const CommandIDs = {
  /** Open a version's card in the main area; args `{name, version}`. */
  openCard: 'pyfunc-jupyter:open-model-card',
  /** Insert `%pyfunc_load <uri> --as <var>` below the active cell; args `{uri, name?, version?}`. */
  insertLoadCell: 'pyfunc-jupyter:insert-load-cell',
  /** Insert a cell managing a version through the API; args `{name, version, action}`. */
  insertManageCell: 'pyfunc-jupyter:insert-manage-cell',
  /** Read the store again. */
  refresh: 'pyfunc-jupyter:refresh-models'
} as const;

/**
 * The id of the Models side panel.
 */
export const PANEL_ID = 'pyfunc-jupyter-models';

/**
 * The plugin id (also the key of its settings).
 */
const PLUGIN_ID = 'pyfunc-jupyter:models-panel';

/**
 * The store folder when no setting says otherwise.
 */
const DEFAULT_STORE_DIR = 'models';

/**
 * The parts of a notebook panel this extension uses.
 *
 * Duck-typed: `@jupyterlab/notebook` is not a dependency (its current release does not
 * resolve from the npm registry, and these few members are stable across JupyterLab 4).
 */
interface INotebookLike extends Widget {
  /** The notebook. */
  content: {
    /** The index of the active cell. */
    activeCellIndex: number;
    /** The notebook model, with its shared (collaborative) model. */
    model: {
      sharedModel: {
        insertCell(index: number, cell: { cell_type: string; source: string }): unknown;
      };
    } | null;
  };
  /** The document context. */
  context: { path: string };
}

/**
 * The widget as a notebook panel, or `null` when it is not one.
 *
 * @param widget - a main-area widget
 */
function asNotebook(widget: Widget | null | undefined): INotebookLike | null {
  const candidate = widget as Partial<INotebookLike> | null | undefined;
  if (
    candidate &&
    !candidate.isDisposed &&
    candidate.content &&
    typeof candidate.content.activeCellIndex === 'number' &&
    candidate.content.model?.sharedModel &&
    typeof candidate.context?.path === 'string' &&
    candidate.context.path.endsWith('.ipynb')
  ) {
    return candidate as INotebookLike;
  }
  return null;
}

/**
 * The folder of a path relative to the Jupyter root (`''` for the root).
 */
function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * The store a notebook's kernel saves to by default: `models/` beside the notebook.
 */
function notebookStore(path: string): string {
  const dir = dirname(path);
  return dir ? `${dir}/${DEFAULT_STORE_DIR}` : DEFAULT_STORE_DIR;
}

/**
 * A Python string literal (JSON's escapes are Python's for these strings).
 */
function py(text: string): string {
  return JSON.stringify(text);
}

/**
 * The cell a Manage action inserts: a call to the package API (`store/active.py`) that the user reviews and runs.
 *
 * The cell first checks that the kernel's store is the folder the side panel shows, so it never
 * changes a same-named model in another store.
 */
export function manageCellSource(
  version: { name: string; version: number },
  action: ManageAction,
  storeFromNotebook: string
): string {
  const name = py(version.name);
  const call = {
    describe: `pyfunc_jupyter.update_model_version(${name}, ${version.version}, description="Describe this version")`,
    tag: `pyfunc_jupyter.set_model_version_tag(${name}, ${version.version}, "stage", "staging")`,
    alias: `pyfunc_jupyter.set_registered_model_alias(${name}, "champion", ${version.version})`,
    delete: `pyfunc_jupyter.delete_model_version(${name}, ${version.version})`
  }[action];
  return (
    `# models:/${version.name}/${version.version}: edit the values, then run\n` +
    'import os, pyfunc_jupyter\n' +
    `assert os.path.samefile(pyfunc_jupyter.get_store(), ${py(storeFromNotebook)}), ` +
    `"this kernel's store is " + str(pyfunc_jupyter.get_store())\n` +
    call
  );
}

/**
 * The path from a notebook's folder to a folder, both relative to the Jupyter root.
 */
function relativeTo(fromDir: string, to: string): string {
  const a = fromDir ? fromDir.split('/') : [];
  const b = to ? to.split('/') : [];
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) {
    common++;
  }
  return [...new Array(a.length - common).fill('..'), ...b.slice(common)].join('/') || '.';
}

/**
 * A main-area view of one version's card.
 */
class ModelCardView extends Panel {
  /**
   * @param version - the version shown, and the store folder holding it
   */
  constructor(version: { name: string; version: number; storeDir: string }) {
    super();
    this.addClass('jp-PyfuncModelCardView');
    this.version = version;
    this.id = `pyfunc-jupyter-card-${version.storeDir}-${version.name}-${version.version}`.replace(
      /[^A-Za-z0-9_-]/g,
      '_'
    );
    this.title.label = `${version.name} v${version.version}`;
    this.title.caption = `models:/${version.name}/${version.version} in ${version.storeDir}/`;
    this.title.icon = modelsIcon;
    this.title.closable = true;
    // The card is built from text nodes only: no sanitizer, resolver or typesetter is used.
    this.renderer = new ModelCardRenderer({
      mimeType: MIME_TYPE
    } as unknown as IRenderMime.IRendererOptions);
    this.renderer.announce = false; // the panel is where this card was chosen
    this.addWidget(this.renderer);
  }

  /**
   * The renderer that draws the card: the same as in notebook outputs.
   */
  readonly renderer: ModelCardRenderer;

  /**
   * The version shown (what the layout restorer reopens).
   */
  readonly version: { name: string; version: number; storeDir: string };

  /**
   * Draw the card of the version from its files, or why it cannot be drawn.
   *
   * @param store - the store holding it
   * @param name - the model name
   * @param version - the version
   */
  async load(store: ModelStore, name: string, version: number): Promise<void> {
    try {
      if (!(await store.hasVersion(name, version))) {
        // e.g. a tab restored after a reload whose version was deleted since
        this.renderer.node.replaceChildren(
          renderProblem(`models:/${name}/${version} is no longer in ${store.storeDir}/.`)
        );
        return;
      }
      const { data, volatile } = await store.card(name, version);
      const model = {
        trusted: false,
        data: { [MIME_TYPE]: data },
        metadata: { [MIME_TYPE]: { volatile } },
        setData: () => undefined
      };
      await this.renderer.renderModel(model as unknown as IRenderMime.IMimeModel);
    } catch (reason) {
      const message = (reason as Error).message ?? String(reason);
      this.renderer.node.replaceChildren(
        renderProblem(`models:/${name}/${version} is broken: ${message}`)
      );
    }
  }
}

/**
 * The Models side panel, its commands and its setting (the store folder).
 */
const modelsPanel: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A side panel listing the local model store, with cards and load cells.',
  autoStart: true,
  optional: [ILabShell, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    settings: ISettingRegistry | null
  ) => {
    const contents = app.serviceManager.contents;
    let defaultStore = DEFAULT_STORE_DIR;
    let store = new ModelStore(contents, DEFAULT_STORE_DIR);
    let lastNotebook: INotebookLike | null = null;
    const cards = new WidgetTracker<ModelCardView>({ namespace: 'pyfunc-jupyter-cards' });

    const currentNotebook = (): INotebookLike | null => {
      const current = asNotebook(app.shell.currentWidget);
      if (current) {
        return current;
      }
      return lastNotebook && !lastNotebook.isDisposed && lastNotebook.isAttached
        ? lastNotebook
        : null;
    };
    const openNotebooks = (): INotebookLike[] =>
      Array.from(app.shell.widgets('main'))
        .map(asNotebook)
        .filter((n): n is INotebookLike => n !== null);
    const showStore = (dir: string): void => {
      if (dir !== store.storeDir) {
        store = new ModelStore(contents, dir);
        panel.store = store;
      }
    };
    const insertFailed = (reason: unknown): void =>
      panel.showMessage((reason as Error).message ?? String(reason), 'no-notebook');

    const panel = new ModelsPanel(store, {
      open: version =>
        void app.commands.execute(CommandIDs.openCard, {
          name: version.name,
          version: version.version,
          storeDir: store.storeDir
        }),
      insertLoadCell: (version: IStoreVersion) =>
        void app.commands
          .execute(CommandIDs.insertLoadCell, {
            uri: version.uri,
            name: version.name,
            version: version.version
          })
          .catch(insertFailed),
      insertManageCell: (version: IStoreVersion, action: ManageAction) =>
        void app.commands
          .execute(CommandIDs.insertManageCell, {
            name: version.name,
            version: version.version,
            action
          })
          .catch(insertFailed),
      chooseStore: (dir: string) => showStore(dir)
    });

    // The stores of the open notebooks (models/ beside each) and the setting's; the panel follows
    // the notebook made current, and says which folder it shows.
    const notebooksChanged = (): void => {
      panel.setStores([defaultStore, ...openNotebooks().map(n => notebookStore(n.context.path))]);
      panel.canInsert = currentNotebook() !== null;
    };
    if (labShell) {
      labShell.currentChanged.connect((_, change) => {
        const notebook = asNotebook(change.newValue);
        lastNotebook = notebook ?? lastNotebook;
        app.commands.notifyCommandChanged(CommandIDs.insertLoadCell);
        notebooksChanged();
        if (notebook) {
          showStore(notebookStore(notebook.context.path));
        }
      });
      labShell.layoutModified.connect(notebooksChanged);
    }
    panel.id = PANEL_ID;
    panel.title.icon = modelsIcon;
    panel.title.caption = 'Models (the local model store)';

    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Models',
      caption: 'Read the local model store again',
      execute: () => panel.refresh()
    });

    app.commands.addCommand(CommandIDs.openCard, {
      label: args => `Open the Card of ${args.name ?? 'a Model'} v${args.version ?? '?'}`,
      execute: async args => {
        const name = String(args.name);
        const version = Number(args.version);
        const storeDir = typeof args.storeDir === 'string' ? args.storeDir : store.storeDir;
        const source = storeDir === store.storeDir ? store : new ModelStore(contents, storeDir);
        const view = new ModelCardView({ name, version, storeDir });
        const open = Array.from(app.shell.widgets('main')).find(w => w.id === view.id);
        if (open) {
          view.dispose();
          app.shell.activateById(open.id);
          await (open as ModelCardView).load(source, name, version);
          return open;
        }
        void cards.add(view);
        app.shell.add(view, 'main');
        app.shell.activateById(view.id);
        await view.load(source, name, version);
        return view;
      }
    });

    app.commands.addCommand(CommandIDs.insertLoadCell, {
      label: args => `Insert "%pyfunc_load ${args.uri ?? 'models:/…'}" Cell`,
      caption: 'Add a cell that loads the model below the active cell of the current notebook',
      isEnabled: () => currentNotebook() !== null,
      execute: args => {
        const name = typeof args.name === 'string' ? args.name : null;
        const as =
          name !== null && typeof args.version === 'number'
            ? ` --as ${variableName({ name, version: args.version })}`
            : '';
        return insertCell(`%pyfunc_load ${String(args.uri)}${as}`, 'load cell');
      }
    });

    app.commands.addCommand(CommandIDs.insertManageCell, {
      label: args => `Insert a Cell to Manage ${args.name ?? 'a Model'} v${args.version ?? '?'}`,
      caption:
        'Add a cell that changes the version through the Python API (review it, then run it)',
      isEnabled: () => currentNotebook() !== null,
      execute: args => {
        const notebook = currentNotebook();
        const storeFromNotebook = notebook
          ? relativeTo(dirname(notebook.context.path), store.storeDir)
          : store.storeDir;
        return insertCell(
          manageCellSource(
            { name: String(args.name), version: Number(args.version) },
            String(args.action) as ManageAction,
            storeFromNotebook
          ),
          'cell'
        );
      }
    });

    function insertCell(source: string, what: string): number {
      const notebook = currentNotebook();
      if (!notebook || !notebook.content.model) {
        throw new Error(`Open a notebook first: the ${what} goes below its active cell.`);
      }
      const index = notebook.content.activeCellIndex + 1;
      notebook.content.model.sharedModel.insertCell(index, { cell_type: 'code', source });
      notebook.content.activeCellIndex = index;
      app.shell.activateById(notebook.id);
      panel.showMessage('');
      return index;
    }

    app.shell.add(panel, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
      // card tabs opened from the panel come back after a reload
      void restorer.restore(cards, {
        command: CommandIDs.openCard,
        args: view => ({
          name: view.version.name,
          version: view.version.version,
          storeDir: view.version.storeDir
        }),
        name: view => view.id
      });
    }
    notebooksChanged();

    if (settings) {
      const apply = (loaded: ISettingRegistry.ISettings): void => {
        const dir = (loaded.get('storeDir').composite as string) || DEFAULT_STORE_DIR;
        defaultStore = dir;
        notebooksChanged();
        const current = currentNotebook();
        showStore(current ? notebookStore(current.context.path) : dir);
      };
      settings
        .load(PLUGIN_ID)
        .then(loaded => {
          apply(loaded);
          loaded.changed.connect(apply);
        })
        .catch(reason => console.warn(`${PLUGIN_ID}: settings not loaded`, reason));
    }
  }
};

/**
 * The CSS class of the save/load panel (`pyfunc_jupyter.panel()`, an ipywidgets output).
 */
const SAVE_LOAD_PANEL_CLASS = 'pfj-panel';

/**
 * Keep a key pressed in a dropdown of the save/load panel with the dropdown.
 *
 * A focused `<select>` is not `:read-write`, so a notebook in command mode would take the key as
 * its own shortcut (`d` `d` deletes the cell, the arrows move between cells) instead of letting the
 * dropdown choose by typing or with the arrows. Stopping the event on its way down leaves the
 * dropdown's own default action intact.
 */
function keepKeysInPanelDropdowns(event: KeyboardEvent): void {
  const target = event.target;
  if (
    target instanceof HTMLSelectElement &&
    target.closest(`.${SAVE_LOAD_PANEL_CLASS}`) &&
    !event.ctrlKey &&
    !event.metaKey &&
    !event.altKey &&
    event.key !== 'Tab' &&
    event.key !== 'Escape'
  ) {
    event.stopPropagation();
  }
}

/**
 * Keyboard use of the save/load panel's dropdowns inside notebooks.
 */
const panelKeys: JupyterFrontEndPlugin<void> = {
  id: 'pyfunc-jupyter:panel-keys',
  description: "Lets the save/load panel's dropdowns take typed keys and arrows in a notebook.",
  autoStart: true,
  activate: () => {
    // Capture on window runs before JupyterLab's own keydown handler (capture on document).
    window.addEventListener('keydown', keepKeysInPanelDropdowns, true);
  }
};

export default [modelsPanel, panelKeys];
