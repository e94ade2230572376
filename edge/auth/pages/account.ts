/** `GET /account`: the owner's two forms (change the password, delete the account), and the pages after each. */
import { html } from 'hono/html';
import type { I18n } from '../../i18n/index.js';
import { PASSWORD_MIN_CHARS } from '../../shared/passwords.js';
import { formField, postForm, textInput } from './form.js';
import { errorSummary, fieldError, layout, message, primaryButton, type FormError, type Html } from './layout.js';

export type AccountForm = 'password' | 'delete';

export interface AccountPageState {
  /** The form that came back, with its error and the name typed in it. */
  readonly form?: AccountForm;
  readonly error?: FormError;
  readonly user?: string;
}

/** The element ids of each form's fields (both forms have a `user` and a `password`). */
const ACCOUNT_FIELD_IDS: Record<AccountForm, Record<string, string>> = {
  password: { user: 'pw-user', password: 'pw-password', new_password: 'new_password' },
  delete: { user: 'del-user', password: 'del-password', confirm: 'confirm' },
};

export function accountPage(i18n: I18n, state: AccountPageState = {}): Html {
  /** The error, when it is of this form. */
  const errorIn = (form: AccountForm) => (state.form === form ? state.error : undefined);
  const userOf = (form: AccountForm) => (state.form === form ? (state.user ?? '') : '');
  const userField = (form: AccountForm) =>
    formField(errorIn(form), 'user', {
      id: ACCOUNT_FIELD_IDS[form].user!,
      label: i18n.t('meet-field-username'),
      control: (a) =>
        textInput(
          a,
          html`type="text" required autocomplete="username" autocapitalize="none" spellcheck="false" dir="auto" value="${userOf(form)}"`,
        ),
    });
  const passwordField = (form: AccountForm) =>
    formField(errorIn(form), 'password', {
      id: ACCOUNT_FIELD_IDS[form].password!,
      label: i18n.t('meet-field-current-password'),
      control: (a) => textInput(a, html`type="password" required autocomplete="current-password" dir="auto"`),
    });
  return layout(
    i18n,
    { title: 'meet-account-title', path: '/account' },
    html`<h1>${i18n.t('meet-account-heading')}</h1>
<p>${i18n.t('meet-account-intro')}</p>
<section aria-labelledby="password-heading">
<h2 id="password-heading">${i18n.t('meet-account-password-heading')}</h2>
${state.form === 'password' ? errorSummary(i18n, state.error, ACCOUNT_FIELD_IDS.password) : ''}
${postForm(
  i18n,
  '/account/password',
  html`${userField('password')}
${passwordField('password')}
${formField(errorIn('password'), 'new_password', {
  label: i18n.t('meet-field-new-password'),
  hint: i18n.t('meet-field-password-hint', PASSWORD_MIN_CHARS),
  control: (a) =>
    textInput(
      a,
      html`type="password" required minlength="${PASSWORD_MIN_CHARS}" autocomplete="new-password" dir="auto"`,
    ),
})}
<div class="actions">${primaryButton(i18n.t('meet-account-password-submit'))}</div>`,
)}
</section>
<section aria-labelledby="delete-heading">
<h2 id="delete-heading">${i18n.t('meet-account-delete-heading')}</h2>
<p>${i18n.t('meet-account-delete-warning')}</p>
${state.form === 'delete' ? errorSummary(i18n, state.error, ACCOUNT_FIELD_IDS.delete) : ''}
${postForm(
  i18n,
  '/account/delete',
  html`${userField('delete')}
${passwordField('delete')}
${confirmField(i18n, fieldError(errorIn('delete'), 'confirm'))}
<div class="actions"><button type="submit" class="cdx-button cdx-button--action-destructive cdx-button--weight-primary">${i18n.t('meet-account-delete-submit')}</button></div>`,
)}
</section>`,
  );
}

function confirmField(i18n: I18n, error: { error?: string; focus?: boolean }): Html {
  return html`<div class="cdx-field"><div class="cdx-checkbox">
<input class="cdx-checkbox__input" type="checkbox" id="confirm" name="confirm" value="yes" required${error.error ? html` aria-invalid="true" aria-describedby="confirm-error"` : ''}${error.focus ? ' autofocus' : ''}>
<label class="cdx-label cdx-checkbox__label" for="confirm">${i18n.t('meet-field-confirm')}</label></div>
${error.error ? html`<div class="cdx-field__validation-message"><div class="cdx-message cdx-message--inline cdx-message--error" id="confirm-error"><span class="cdx-message__icon" aria-hidden="true">!</span><div class="cdx-message__content">${error.error}</div></div></div>` : ''}
</div>`;
}

export function accountDonePage(i18n: I18n, done: 'changed' | 'deleted', username: string): Html {
  const title = done === 'changed' ? 'meet-account-changed-title' : 'meet-account-deleted-title';
  return layout(
    i18n,
    { title, path: '/account' },
    html`<h1>${i18n.t(title)}</h1>
${message('success', html`<p>${i18n.t(done === 'changed' ? 'meet-account-changed' : 'meet-account-deleted', html`<strong><bdi>${username}</bdi></strong>`)}</p>`)}
<p><a href="${i18n.href('/')}">${i18n.t('meet-back-home')}</a></p>`,
  );
}
