/**
 * The MIME renderer of model cards: `application/vnd.pyfunc-jupyter.model+json`.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { CARD_DRAWN_EVENT, CLASS_NAME, MIME_TYPE, renderCard, renderProblem } from './card';

import { CARD_SCHEMA, ICardData, IVolatile } from './cardschema';

export { CARD_SCHEMA };

/**
 * The class of the widget that holds a card.
 */
const WIDGET_CLASS = 'jp-PyfuncModelCardWidget';

/**
 * Check that a payload looks like a card of a schema we draw.
 *
 * @param data - the MIME bundle's payload
 * @returns why it cannot be drawn, or `null`
 */
export function cardProblem(data: unknown): string | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return 'The model card is not a JSON object.';
  }
  const schema = (data as { schema?: unknown }).schema;
  if (schema !== CARD_SCHEMA) {
    return (
      `This model card has schema ${JSON.stringify(schema)}; this extension draws schema ` +
      `${CARD_SCHEMA}. Install matching versions of pyfunc-jupyter and its JupyterLab extension.`
    );
  }
  return null;
}

/**
 * Draw a card (or why it cannot be drawn) into a node, replacing what was there.
 *
 * @param node - the host node
 * @param data - the card data
 * @param volatile - the volatile facts
 */
export function drawCard(
  node: HTMLElement,
  data: unknown,
  volatile: IVolatile,
  options: { collapsed?: boolean } = {}
): void {
  const problem = cardProblem(data);
  let card: HTMLElement;
  try {
    card = problem ? renderProblem(problem) : renderCard(data as ICardData, volatile, options);
  } catch (reason) {
    card = renderProblem(`The model card could not be drawn: ${reason}`);
  }
  node.replaceChildren(card);
}

/**
 * A widget that draws a model card from a MIME model.
 */
export class ModelCardRenderer extends Widget implements IRenderMime.IRenderer {
  /**
   * Construct a new model card widget.
   *
   * @param options - the renderer options
   */
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass(WIDGET_CLASS);
  }

  /**
   * Draw the card of a MIME model.
   *
   * @param model - the output's data and metadata; the volatile facts are in
   *   `metadata[MIME_TYPE].volatile`
   */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this._mimeType];
    const meta = model.metadata[this._mimeType] as
      { volatile?: IVolatile; collapsed?: boolean } | undefined;
    const volatile = (meta && typeof meta === 'object' && meta.volatile) || {};
    // `collapsed`: the save/load panel shows the card with every section folded
    drawCard(this.node, data, volatile, { collapsed: !!(meta && meta.collapsed === true) });
    const card = data as Partial<ICardData> | undefined;
    if (this.announce && card && card.status === 'saved' && card.uri) {
      document.dispatchEvent(new CustomEvent(CARD_DRAWN_EVENT, { detail: { uri: card.uri } }));
    }
    return Promise.resolve();
  }

  /**
   * Whether drawing a saved model's card dispatches `CARD_DRAWN_EVENT` (the Models panel
   * refreshes on it).
   */
  announce = true;

  private _mimeType: string;
}

/**
 * A renderer factory for model cards.
 *
 * `safe: true`: the card is built from text nodes only (no HTML from the payload, no scripts),
 * so it is drawn in untrusted notebooks too.
 */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  createRenderer: options => new ModelCardRenderer(options)
};

/**
 * The MIME extension.
 *
 * `rank: 0` puts the card before the bundle's `text/html` fallback (rank 50).
 */
const extension: IRenderMime.IExtension = {
  id: 'pyfunc-jupyter:card-renderer',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export { CLASS_NAME, MIME_TYPE };

export default extension;
