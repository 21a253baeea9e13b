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
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Panel, Widget } from '@lumino/widgets';

import { MIME_TYPE, renderProblem } from './card';
import { ModelCardRenderer } from './mime';
import { ModelsPanel, modelsIcon } from './panel';
import { IStoreVersion, ModelStore } from './store';

/**
 * The command ids.
 */
export const CommandIDs = {
  /** Open a version's card in the main area; args `{name, version}`. */
  openCard: 'pyfunc-jupyter:open-model-card',
  /** Insert `%pyfunc_load <uri>` below the active cell; args `{uri}`. */
  insertLoadCell: 'pyfunc-jupyter:insert-load-cell',
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
 * A main-area view of one version's card.
 */
class ModelCardView extends Panel {
  /**
   * @param version - the version shown
   */
  constructor(version: { name: string; version: number }) {
    super();
    this.addClass('jp-PyfuncModelCardView');
    this.id = `pyfunc-jupyter-card-${version.name}-${version.version}`.replace(
      /[^A-Za-z0-9_-]/g,
      '_'
    );
    this.title.label = `${version.name} v${version.version}`;
    this.title.caption = `models:/${version.name}/${version.version}`;
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
   * Draw the card of the version from its files, or why it cannot be drawn.
   *
   * @param store - the store holding it
   * @param name - the model name
   * @param version - the version
   */
  async load(store: ModelStore, name: string, version: number): Promise<void> {
    try {
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
    let store = new ModelStore(contents, DEFAULT_STORE_DIR);
    let lastNotebook: INotebookLike | null = null;

    const currentNotebook = (): INotebookLike | null => {
      const current = asNotebook(app.shell.currentWidget);
      if (current) {
        return current;
      }
      return lastNotebook && !lastNotebook.isDisposed && lastNotebook.isAttached
        ? lastNotebook
        : null;
    };
    if (labShell) {
      labShell.currentChanged.connect((_, change) => {
        lastNotebook = asNotebook(change.newValue) ?? lastNotebook;
        app.commands.notifyCommandChanged(CommandIDs.insertLoadCell);
      });
    }

    const panel = new ModelsPanel(store, {
      open: version =>
        void app.commands.execute(CommandIDs.openCard, {
          name: version.name,
          version: version.version
        }),
      insertLoadCell: (version: IStoreVersion) =>
        void app.commands.execute(CommandIDs.insertLoadCell, { uri: version.uri })
    });
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
        const view = new ModelCardView({ name, version });
        const open = Array.from(app.shell.widgets('main')).find(w => w.id === view.id);
        if (open) {
          view.dispose();
          app.shell.activateById(open.id);
          await (open as ModelCardView).load(store, name, version);
          return open;
        }
        app.shell.add(view, 'main');
        app.shell.activateById(view.id);
        await view.load(store, name, version);
        return view;
      }
    });

    app.commands.addCommand(CommandIDs.insertLoadCell, {
      label: args => `Insert "%pyfunc_load ${args.uri ?? 'models:/…'}" Cell`,
      caption: 'Add a cell that loads the model below the active cell of the current notebook',
      isEnabled: () => currentNotebook() !== null,
      execute: args => {
        const notebook = currentNotebook();
        if (!notebook || !notebook.content.model) {
          throw new Error('Open a notebook first: the load cell goes below its active cell.');
        }
        const index = notebook.content.activeCellIndex + 1;
        notebook.content.model.sharedModel.insertCell(index, {
          cell_type: 'code',
          source: `%pyfunc_load ${String(args.uri)}`
        });
        notebook.content.activeCellIndex = index;
        app.shell.activateById(notebook.id);
        return index;
      }
    });

    app.shell.add(panel, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    if (settings) {
      const apply = (loaded: ISettingRegistry.ISettings): void => {
        const dir = (loaded.get('storeDir').composite as string) || DEFAULT_STORE_DIR;
        if (dir !== store.storeDir) {
          store = new ModelStore(contents, dir);
          panel.store = store;
        }
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
