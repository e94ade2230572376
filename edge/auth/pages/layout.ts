/**
 * The page frame: Wikimedia Meet name, navigation, one stylesheet, no external assets, in the reader's language and
 * direction; and the Codex-style form pieces every page shares (a field with its hint and its error tied to the
 * input by aria-describedby, the message boxes).
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { LANGUAGES, type I18n, type Lang, type MessageKey } from '../../i18n/index.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface LayoutOptions {
  readonly title: MessageKey;
  /** Seconds after which the page reloads itself (status pages while pending). */
  readonly refreshSeconds?: number;
  /** Script files of /assets to load (progressive enhancement only: every page works without them). */
  readonly scripts?: readonly string[];
  /** The path the language links point to (a GET that shows the same page). @default the current page's form */
  readonly path?: string;
}

export function layout(i18n: I18n, options: LayoutOptions, body: Html): Html {
  const here = options.path ?? '/';
  return html`<!doctype html>
<html lang="${i18n.lang}" dir="${i18n.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${i18n.text('meet-page-title', i18n.text(options.title))}</title>
<link rel="stylesheet" href="/assets/meet.css">
${(options.scripts ?? []).map((script) => html`<script src="/assets/${script}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">${i18n.t('meet-skip-to-content')}</a>
<header><a class="brand" href="${i18n.href('/')}">${i18n.t('meet-site-name')}</a>
<nav aria-label="${i18n.text('meet-nav-label')}"><a href="${i18n.href('/create')}">${i18n.t('meet-nav-create')}</a><a href="${i18n.href('/generate_token')}">${i18n.t('meet-nav-ticket')}</a><a href="${i18n.href('/account')}">${i18n.t('meet-nav-account')}</a></nav></header>
<main id="main">
${body}
</main>
<footer>${i18n.t('meet-footer')}
<nav aria-label="${i18n.text('meet-language-label')}">${(Object.keys(LANGUAGES) as Lang[]).map((lang) =>
    lang === i18n.lang
      ? html`<span lang="${lang}" aria-current="true">${LANGUAGES[lang].name}</span>`
      : html`<a href="${here}${here.includes('?') ? '&' : '?'}uselang=${lang}" lang="${lang}" hreflang="${lang}">${LANGUAGES[lang].name}</a>`,
  )}</nav></footer>
</body>
</html>`;
}

/** A form's error as shown: the message (already in the reader's language) and the field it belongs to. */
export interface FormError {
  readonly message: string;
  readonly field?: string;
}

/**
 * The box at the top of a form: for a field's error, a short "marked below" that links to the field (the message
 * itself sits under the field); for an error of the whole form, the message. role=alert so it is announced.
 */
export function errorSummary(
  i18n: I18n,
  error: FormError | undefined,
  fieldIds: Readonly<Record<string, string>> = {},
): Html | string {
  if (!error) return '';
  const id = error.field ? fieldIds[error.field] : undefined;
  const content = id
    ? html`<p>${i18n.t('meet-form-errors', 1)} <a href="#${id}">${error.message}</a></p>`
    : html`<p>${error.message}</p>`;
  return message('error', content, 'form-error', i18n.text('meet-error-prefix'));
}

export function message(type: 'error' | 'success' | 'notice', content: Html, id?: string, iconLabel?: string): Html {
  const role = type === 'error' ? 'alert' : 'status';
  const icon = type === 'error' ? '!' : type === 'success' ? '✓' : 'i';
  return html`<div class="cdx-message cdx-message--block cdx-message--${type}" role="${role}"${id ? raw(` id="${id}"`) : ''}><span class="cdx-message__icon" aria-hidden="true">${icon}</span>${iconLabel ? html`<span class="sr-only">${iconLabel}</span>` : ''}<div class="cdx-message__content">${content}</div></div>`;
}

export interface FieldOptions {
  readonly id: string;
  readonly name: string;
  readonly label: Html | string;
  readonly hint?: Html | string;
  /** The error message for this field, when the form came back because of it. */
  readonly error?: string;
  /** The first field in error gets the focus (autofocus: no script needed). */
  readonly focus?: boolean;
  /** The control: an <input>/<select> built with controlAttributes. */
  readonly control: (attributes: HtmlEscapedString) => Html;
}

/** A Codex field: label, control, help text, and the validation message tied to the control. */
export function field(options: FieldOptions): Html {
  const hintId = options.hint ? `${options.id}-hint` : null;
  const errorId = options.error ? `${options.id}-error` : null;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ');
  const attributes = raw(
    `id="${options.id}" name="${options.name}"${describedBy ? ` aria-describedby="${describedBy}"` : ''}${options.error ? ' aria-invalid="true"' : ''}${options.focus ? ' autofocus' : ''}`,
  ) as HtmlEscapedString;
  return html`<div class="cdx-field">
<label class="cdx-label" for="${options.id}">${options.label}</label>
<div class="cdx-field__control${options.error ? ' cdx-text-input--status-error' : ''}">${options.control(attributes)}</div>
${errorId ? html`<div class="cdx-field__validation-message"><div class="cdx-message cdx-message--inline cdx-message--error" id="${errorId}"><span class="cdx-message__icon" aria-hidden="true">!</span><div class="cdx-message__content">${options.error}</div></div></div>` : ''}
${hintId ? html`<p class="cdx-field__help-text" id="${hintId}">${options.hint}</p>` : ''}
</div>`;
}

/** The error of `name`, and whether it is the one to focus, from a form's error. */
export function fieldError(error: FormError | undefined, name: string): { error?: string; focus?: boolean } {
  return error?.field === name ? { error: error.message, focus: true } : {};
}

export const primaryButton = (label: Html | string, extra = '') =>
  html`<button type="submit" class="cdx-button cdx-button--action-progressive cdx-button--weight-primary"${raw(extra)}>${label}</button>`;
