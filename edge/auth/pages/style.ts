/**
 * The one stylesheet, served from /assets/meet.css (the CSP allows styles from this origin only). Colours, type and
 * spacing are Wikimedia's Codex design tokens (@wikimedia/codex-design-tokens, pinned): the rules below use them as
 * custom properties, and only the tokens they use are defined, with the package's values. The components follow
 * Codex's CSS-only markup (cdx-button, cdx-text-input, cdx-field, cdx-message, cdx-checkbox, cdx-select, cdx-table)
 * styled after Codex with those tokens. Only logical properties (inline/block), so right-to-left pages mirror.
 * No fonts, images or icons are loaded: the system font stack, and text or CSS shapes for the message icons.
 */
import tokens from '@wikimedia/codex-design-tokens/dist/theme-wikimedia-ui.json' with { type: 'json' };

const RULES = `
* { box-sizing: border-box; }
html { font-family: var(--font-family-system-sans); font-size: 100%; }
body { margin: 0; color: var(--color-base); background: var(--background-color-interactive-subtle); line-height: var(--line-height-medium); font-size: var(--font-size-medium); }
a { color: var(--color-progressive); }
a:visited { color: var(--color-link--visited); }
a:hover { color: var(--color-progressive--hover); }
:focus-visible { outline: var(--border-width-thick) solid var(--outline-color-progressive--focus); outline-offset: 1px; }
.skip, .sr-only { position: absolute; inset-inline-start: -9999px; }
.skip:focus { inset-inline-start: var(--spacing-100); inset-block-start: var(--spacing-100); background: var(--background-color-base); padding: var(--spacing-50); z-index: 1; }
header { background: var(--background-color-base); border-block-end: var(--border-width-base) solid var(--border-color-subtle); padding: var(--spacing-75) var(--spacing-100); display: flex; flex-wrap: wrap; gap: var(--spacing-50) var(--spacing-150); align-items: baseline; }
header .brand { color: var(--color-base); text-decoration: none; font-weight: var(--font-weight-bold); font-size: var(--font-size-x-large); }
header nav { display: flex; flex-wrap: wrap; gap: var(--spacing-50) var(--spacing-100); }
main { max-width: 42rem; margin: var(--spacing-200) auto; background: var(--background-color-base); border: var(--border-width-base) solid var(--border-color-subtle); border-radius: var(--border-radius-base); padding: var(--spacing-150) var(--spacing-200); }
@media (max-width: 40rem) { main { margin: 0; border-inline: 0; padding: var(--spacing-100); } }
h1 { font-family: var(--font-family-system-sans); font-size: var(--font-size-xx-large); line-height: var(--line-height-xx-large); margin-block: 0 var(--spacing-100); }
h2 { font-size: var(--font-size-x-large); line-height: var(--line-height-x-large); margin-block: var(--spacing-200) var(--spacing-50); border-block-start: var(--border-width-base) solid var(--border-color-subtle); padding-block-start: var(--spacing-150); }
footer { text-align: center; color: var(--color-subtle); font-size: var(--font-size-small); padding: 0 var(--spacing-100) var(--spacing-200); }
footer nav { margin-block-start: var(--spacing-50); display: flex; justify-content: center; gap: var(--spacing-100); }
code, .ticket { font-family: var(--font-family-monospace); }
.cdx-field { margin-block-start: var(--spacing-100); }
.cdx-label { display: block; font-weight: var(--font-weight-bold); margin-block-end: var(--spacing-25); }
.cdx-field__help-text { color: var(--color-subtle); font-size: var(--font-size-small); line-height: var(--line-height-small); margin-block: var(--spacing-25) 0; }
.cdx-text-input__input, .cdx-select { width: 100%; min-height: var(--min-size-interactive-pointer); font: inherit; color: var(--color-base); background: var(--background-color-base); padding: var(--spacing-25) var(--spacing-50); border: var(--border-width-base) solid var(--border-color-interactive); border-radius: var(--border-radius-base); }
.cdx-text-input__input:hover, .cdx-select:hover { border-color: var(--border-color-interactive--hover); }
.cdx-text-input__input:focus, .cdx-select:focus { outline: 0; border-color: var(--border-color-progressive--focus); box-shadow: var(--box-shadow-inset-small) var(--box-shadow-color-progressive--focus); }
.cdx-text-input--status-error .cdx-text-input__input { border-color: var(--border-color-error); }
.cdx-text-input--status-error .cdx-text-input__input:focus { border-color: var(--border-color-progressive--focus); }
.cdx-field__validation-message { margin-block-start: var(--spacing-25); }
.cdx-button { display: inline-flex; align-items: center; justify-content: center; gap: var(--spacing-25); min-height: var(--min-size-interactive-pointer); font: inherit; font-weight: var(--font-weight-bold); padding: var(--spacing-25) var(--spacing-75); border: var(--border-width-base) solid var(--border-color-base); border-radius: var(--border-radius-base); color: var(--color-base); background: var(--background-color-interactive-subtle); cursor: pointer; }
.cdx-button:hover { background: var(--background-color-interactive); }
.cdx-button:focus-visible { outline: 0; border-color: var(--border-color-progressive--focus); box-shadow: var(--box-shadow-inset-small) var(--box-shadow-color-progressive--focus); }
.cdx-button--action-progressive.cdx-button--weight-primary { color: var(--color-inverted); background: var(--background-color-progressive); border-color: var(--background-color-progressive); }
.cdx-button--action-progressive.cdx-button--weight-primary:hover { background: var(--background-color-progressive--hover); border-color: var(--background-color-progressive--hover); }
.cdx-button--action-destructive.cdx-button--weight-primary { color: var(--color-inverted); background: var(--background-color-destructive); border-color: var(--background-color-destructive); }
.cdx-button--action-destructive.cdx-button--weight-primary:hover { background: var(--background-color-destructive--hover); border-color: var(--background-color-destructive--hover); }
.cdx-button--action-destructive { color: var(--color-destructive); }
.cdx-button--action-progressive.cdx-button--weight-primary:focus-visible, .cdx-button--action-destructive.cdx-button--weight-primary:focus-visible { box-shadow: var(--box-shadow-inset-small) var(--box-shadow-color-progressive--focus), inset 0 0 0 2px var(--box-shadow-color-inverted); }
.actions { display: flex; flex-wrap: wrap; gap: var(--spacing-75); margin-block-start: var(--spacing-150); }
.cdx-message { display: flex; gap: var(--spacing-50); padding: var(--spacing-75) var(--spacing-100); border: var(--border-width-base) solid var(--border-color-subtle); border-radius: var(--border-radius-base); margin-block: var(--spacing-100); background: var(--background-color-neutral-subtle); }
.cdx-message--inline { padding: 0; border: 0; background: none; margin: 0; font-size: var(--font-size-small); }
.cdx-message__icon { flex: none; inline-size: 1.25em; block-size: 1.25em; border-radius: var(--border-radius-circle); color: var(--color-inverted); font-weight: var(--font-weight-bold); font-size: var(--font-size-small); display: inline-flex; align-items: center; justify-content: center; margin-block-start: 0.15em; }
.cdx-message--error { color: var(--color-error); }
.cdx-message--block.cdx-message--error { color: var(--color-base); background: var(--background-color-error-subtle); border-color: var(--border-color-error); }
.cdx-message--error .cdx-message__icon { background: var(--color-error); }
.cdx-message--success { background: var(--background-color-success-subtle); border-color: var(--border-color-success); }
.cdx-message--success .cdx-message__icon { background: var(--color-success); }
.cdx-message--notice .cdx-message__icon { background: var(--color-subtle); }
.cdx-message__content > :first-child { margin-block-start: 0; } .cdx-message__content > :last-child { margin-block-end: 0; }
.cdx-checkbox { display: flex; gap: var(--spacing-50); align-items: flex-start; }
.cdx-checkbox__input { inline-size: 1.25em; block-size: 1.25em; margin: 0.2em 0 0; accent-color: var(--color-progressive); flex: none; }
.cdx-checkbox__label { font-weight: var(--font-weight-normal); margin: 0; }
.row { display: flex; flex-wrap: wrap; gap: 0 var(--spacing-100); } .row > .cdx-field { flex: 1 1 12rem; }
.ticket { display: block; font-size: var(--font-size-medium); word-break: break-all; background: var(--background-color-interactive-subtle); border: var(--border-width-base) dashed var(--border-color-base); padding: var(--spacing-75); user-select: all; -webkit-user-select: all; direction: ltr; text-align: start; }
.ltr { direction: ltr; unicode-bidi: isolate; }
ul.servers { padding-inline-start: var(--spacing-125); }
.cdx-table { overflow-x: auto; margin-block: var(--spacing-100); }
.cdx-table table { border-collapse: collapse; width: 100%; font-size: var(--font-size-small); }
.cdx-table th, .cdx-table td { text-align: start; padding: var(--spacing-50); border-block-end: var(--border-width-base) solid var(--border-color-subtle); vertical-align: top; }
.cdx-table th { background: var(--background-color-interactive-subtle); }
.cdx-table form { margin: 0; }
.cdx-table .cdx-button { font-size: var(--font-size-small); }
[hidden] { display: none !important; }
`;

interface TokenNode {
  readonly name?: unknown;
  readonly value?: unknown;
  readonly [key: string]: unknown;
}

/** Every token of the Wikimedia UI theme by its name (e.g. "color-progressive" → "#36c"). */
export function codexTokens(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const { name, value } = node as TokenNode;
    if (typeof name === 'string' && (typeof value === 'string' || typeof value === 'number'))
      found.set(name, String(value));
    else for (const child of Object.values(node)) walk(child);
  };
  walk(tokens);
  return found;
}

/** The custom properties the rules use, with the tokens' values; a name the theme lacks is a build error. */
function tokenBlock(rules: string): string {
  const all = codexTokens();
  const used = [...new Set(rules.match(/var\(--[a-z0-9-]+\)/g)!.map((ref) => ref.slice(6, -1)))].sort();
  const missing = used.filter((name) => !all.has(name));
  if (missing.length > 0) throw new Error(`the stylesheet uses tokens Codex does not define: ${missing.join(', ')}`);
  return `:root { ${used.map((name) => `--${name}: ${all.get(name)};`).join(' ')} }`;
}

export const STYLESHEET = `/* Wikimedia Meet · Codex design tokens (@wikimedia/codex-design-tokens) */\n${tokenBlock(RULES)}\n${RULES}`;
