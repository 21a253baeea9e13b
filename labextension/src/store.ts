/**
 * The local model store (`<store>/<name>/<version>/`), read through the Jupyter contents API.
 *
 * Nothing is unpickled and no server extension is needed: a version is described by its
 * `MLmodel`, our sidecar `pyfunc_jupyter.json` (absent for models MLflow wrote),
 * `requirements.txt` and the directory listing. This module only reads; `cardbuilder.ts` turns
 * the files into the card and listing facts the kernel would give (proven by shared fixtures).
 */
import { Contents } from '@jupyterlab/services';

import {
  buildCard,
  isMapping,
  IStoredCard,
  pythonRepr,
  SIDECAR,
  Value,
  versionFacts
} from './cardbuilder';

export { SIDECAR };
export type { IStoredCard };

/**
 * A model name of the store (`store.folder._NAME`): so `..` or `a/b` never leave the store.
 */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A version folder (`store.folder._VERSION`): ASCII digits without a leading zero.
 */
const VERSION_NAME = /^[1-9][0-9]{0,17}$/;

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
    const optional = (file: string): Promise<string | null> =>
      names.has(file) ? this._text(join(dir, file)).catch(() => null) : Promise.resolve(null);
    const [mlmodel, sidecar, requirements] = await Promise.all([
      this._text(join(dir, 'MLmodel')),
      optional(SIDECAR),
      optional('requirements.txt')
    ]);
    return buildCard(name, version, { dir, files, mlmodel, sidecar, requirements });
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
   * One version as listed (as `store.folder._entry`).
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
      // as `store.folder._entry`: listed, never read (its URI could not be loaded)
      entry.error = `${pythonRepr(name)} is not a valid model name (letters, digits, '.', '_', '-'); rename the folder`;
      return entry;
    }
    try {
      const folder = await this._contents.get(path, { content: true });
      const names = new Set((folder.content as Contents.IModel[]).map(c => c.name));
      const [mlmodelText, sideText] = await Promise.all([
        names.has('MLmodel') ? this._text(join(path, 'MLmodel')) : Promise.resolve(null),
        names.has(SIDECAR) ? this._text(join(path, SIDECAR)) : Promise.resolve(null)
      ]);
      Object.assign(entry, versionFacts(join(path, 'MLmodel'), mlmodelText, sideText));
    } catch (reason) {
      entry.error = reasonOf(reason);
    }
    return entry;
  }

  /**
   * Every file under a folder with its size, in `os.walk` order (files, then sorted folders).
   */
  private async _walk(dir: string, relative: string): Promise<{ path: string; size: number }[]> {
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
