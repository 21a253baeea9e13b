// Generated from pyfunc_jupyter/card/card.schema.json by scripts/cardtypes.mjs: do not edit.
// Edit the schema, then run `npm run build:lib` (or `node scripts/cardtypes.mjs`).

/**
 * The card schema version this extension builds and draws.
 */
export const CARD_SCHEMA = 1;

/** The stable content of a model card (the MIME bundle's data; compared by nbval). Built by card/data.py in the kernel and by labextension/src/cardbuilder.ts in the side panel; the shared fixtures in tests/fixtures/cards prove the two equal. */
export interface ICardData {
  /** The card schema version: a renderer draws only the version it knows. */
  schema: 1;
  /** Whether the model was saved: `saved`, `not saved`, or `unchanged: same as v<N>` when the store already held an identical version. */
  status: 'saved' | 'not saved' | string;
  /** The model name. */
  name: string | null;
  /** The version in the store, if logged there. */
  version: number | null;
  /** `models:/<name>/<version>`, if logged in the store. */
  uri: string | null;
  /** `Foo (class)` or `f (function)`, when known. */
  model: string | null;
  /** The signature, or `null` when the model has none. */
  signature: ISignatureTables | null;
  /** The requirements and where each came from. */
  requirements: IRequirementRow[];
  /** The artifacts (key and relative path). */
  artifacts: IArtifactRow[];
  /** Every file of the model directory, in `os.walk` order. */
  files: IFileRow[];
  /** A model from code's file (only on such cards; the side panel's builder leaves it out). */
  code?: ICodeFile;
  /** The pickled instance's attributes. */
  state: IStateRow[];
  /** The findings of the checks. */
  checks: ICheck[];
  /** How many errors and warnings. */
  summary: ISummary;
  /** The preview, or `null`. */
  preview: IPreview | null;
  /** How to serve it with MLflow, or `null` (not saved); absent in cards made before it was added. */
  serve?: IServe | null;
}

/** One column (or tensor) of a signature's inputs or outputs. */
export interface IColumnRow {
  /** The column name; `null` for unnamed columns. */
  name: string | number | null;
  /** The type as the Python side writes it (`double`, `Array(long)`, `tensor float64 [-1, 4]`). */
  type: string;
  /** Whether the column is required. */
  required: boolean;
}

/** One inference param with its default. */
export interface IParamRow {
  /** The param name. */
  name: string;
  /** Its type (with ` [-1]` for list params). */
  type: string;
  /** Its default value (any JSON value). */
  default: unknown;
}

/** A model signature as rows of plain values. */
export interface ISignatureTables {
  /** The input columns, or `null` when not declared. */
  inputs: IColumnRow[] | null;
  /** The output columns, or `null` when not declared. */
  outputs: IColumnRow[] | null;
  /** The params, or `null` when the model takes none. */
  params: IParamRow[] | null;
}

/** One line of requirements.txt (its pin is in the volatile facts). */
export interface IRequirementRow {
  /** The distribution name. */
  name: string;
  /** Where it came from: `inferred: <reasons>`, `given`, `added: ...` or `requirements.txt`. */
  source: string;
}

/** One artifact of the model. */
export interface IArtifactRow {
  /** The artifact name. */
  key: string;
  /** Its path relative to the model directory. */
  path: string | null;
}

/** The code file of a model from code (`model_code_path`), shown on its card. */
export interface ICodeFile {
  /** The file name in the model directory. */
  path: string;
  /** Its text (cut after 20,000 characters), or `null` when it cannot be read. */
  text: string | null;
}

/** One file of the model directory. */
export interface IFileRow {
  /** Its POSIX path relative to the model directory. */
  path: string;
}

/** One pickled attribute of the model instance. */
export interface IStateRow {
  /** The attribute name. */
  attribute: string;
  /** Its type's name. */
  type: string;
}

/** One finding of the checks run before saving. */
export interface ICheck {
  /** The check id, e.g. `notebook-global`. */
  check: string;
  /** `error` stops the save; `warning` does not. */
  severity: 'error' | 'warning';
  /** What was found. */
  message: string;
  /** A one-line fix. */
  fix: string;
}

/** How many findings of each severity. */
export interface ISummary {
  /** The number of errors. */
  errors: number;
  /** The number of warnings. */
  warnings: number;
}

/** A table of values: the example's rows or a prediction's. */
export interface IPreviewTable {
  /** Column labels. */
  columns: string[];
  /** The first rows (at most a few); cells are any JSON value. */
  rows: unknown[][];
  /** How many rows there were in all. */
  total_rows: number;
}

/** One prediction shown in the preview. */
export interface IPreviewOutput {
  /** Where it was made: `in memory`, `reloaded`, `fresh process`, `loaded`. */
  label: string;
  /** How it compares with the reference (the first output). */
  status: 'reference' | 'match' | 'mismatch' | 'error' | 'missing';
  /** The prediction, when there is one. */
  table?: IPreviewTable;
  /** `[row, column]` cells that differ from the reference. */
  diff?: number[][];
  /** The failure, for `error`. */
  error?: string;
}

/** The preview: the example's rows beside each prediction. */
export interface IPreview {
  /** The input example. */
  input: IPreviewTable;
  /** The predictions. */
  outputs: IPreviewOutput[];
}

/** How to serve the model with MLflow's scoring server; its location is the volatile `path`, and `mlflow models serve` and the `curl` line are written from both. */
export interface IServe {
  /** `--env-manager` (`local`: the environment that runs `mlflow`). */
  env_manager: string;
  /** The host the server listens on. */
  host: string;
  /** The port it listens on. */
  port: number;
  /** The model's saved serving example (relative to the model), or `null` when it has none. */
  input: string | null;
}

/** The facts that change from run to run (the output's `metadata[MIME_TYPE].volatile`); all optional. */
export interface IVolatile {
  /** Where the model directory is. */
  path?: string | null;
  /** When it was created (UTC). */
  created?: string | null;
  /** The MLmodel's `model_uuid`. */
  model_uuid?: string | null;
  /** The run it was logged in. */
  run_id?: string | null;
  /** The Python version it was saved with. */
  python_version?: string | null;
  /** The cloudpickle version it was saved with. */
  cloudpickle_version?: string | null;
  /** Requirement name to its full `requirements.txt` line. */
  pins?: {
    [key: string]: string;
  };
  /** Relative file path to its size in bytes. */
  sizes?: {
    [key: string]: number;
  };
  /** Pickled attribute to its size in bytes. */
  state_sizes?: {
    [key: string]: number;
  };
  /** The directory's size in bytes. */
  total_bytes?: number | null;
  /** MLmodel's model_size_bytes: the size the store's lists show. */
  model_size_bytes?: number | null;
  /** Seconds spent in each step. */
  timings?: {
    [key: string]: number;
  };
  /** The MLflow tracking server the version is registered in (the path is its download); the serve command then names the version by its models:/ URI. */
  tracking_uri?: string | null;
}
