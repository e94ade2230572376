/**
 * What the form pages (/create, /generate_token, /account) build their forms from: the page's heading, intro and
 * error summary, the form element, fields named by their input, and the Codex text input.
 */
import { html } from 'hono/html';
import type { I18n, MessageKey } from '../../i18n/index.js';
import { errorSummary, field, fieldError, layout, type FieldOptions, type FormError, type Html } from './layout.js';

export interface FormPageOptions {
  readonly title: MessageKey;
  readonly heading: MessageKey;
  readonly intro: MessageKey;
  /** The page's path: the form posts to it, and the language links show it again. */
  readonly path: string;
}

/**
 * A page that is one form: its heading and intro line, the summary of the form's error (linking to the field
 * ids), then the form posting to the page's own path.
 */
export function formPage(
  i18n: I18n,
  page: FormPageOptions,
  error: FormError | undefined,
  ids: Readonly<Record<string, string>>,
  content: Html,
): Html {
  return layout(
    i18n,
    { title: page.title, path: page.path },
    html`<h1>${i18n.t(page.heading)}</h1>
<p>${i18n.t(page.intro)}</p>
${errorSummary(i18n, error, ids)}
${postForm(i18n, page.path, content)}`,
  );
}

/** A form posting to `path` in the reader's language; the server checks the fields (novalidate). */
export function postForm(i18n: I18n, path: string, content: Html): Html {
  return html`<form method="post" action="${i18n.href(path)}" novalidate>
${content}
</form>`;
}

/** The field of input `name` (its element id too, unless given), with the form's error when it is this field's. */
export function formField(
  error: FormError | undefined,
  name: string,
  options: Omit<FieldOptions, 'id' | 'name' | 'error' | 'focus'> & { readonly id?: string },
): Html {
  return field({ ...options, id: options.id ?? name, name, ...fieldError(error, name) });
}

/** A Codex text input: the field's attributes (id, name, aria), then the input's own. */
export const textInput = (attributes: unknown, rest: Html | string) =>
  html`<div class="cdx-text-input"><input class="cdx-text-input__input" ${attributes} ${rest}></div>`;
