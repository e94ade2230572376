/** The one stylesheet, served from /assets/meet.css (the CSP allows styles from this origin only). */
export const STYLESHEET = `
:root { --ink: #202122; --muted: #54595d; --accent: #36c; --accent-dark: #2a4b8d; --error: #d33; --ok: #14866d;
  --paper: #fff; --wash: #f8f9fa; --line: #a2a9b1; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: var(--wash); line-height: 1.5; font-size: 1rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem; }
header { background: var(--paper); border-bottom: 1px solid var(--line); padding: .75rem 1rem; }
header a { color: var(--ink); text-decoration: none; font-weight: 700; font-size: 1.25rem; }
header nav { display: inline; margin-left: 1.5rem; }
header nav a { font-weight: 400; font-size: 1rem; color: var(--accent); margin-right: 1rem; }
main { max-width: 36rem; margin: 2rem auto; background: var(--paper); border: 1px solid var(--line); border-radius: 4px; padding: 1.5rem 2rem; }
h1 { font-size: 1.5rem; margin-top: 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
.hint { color: var(--muted); font-size: .875rem; margin: .25rem 0 0; }
input, select { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--line); border-radius: 2px; margin-top: .25rem; }
input:focus, select:focus, button:focus, a:focus { outline: 3px solid var(--accent); outline-offset: 1px; }
input[aria-invalid="true"] { border-color: var(--error); }
button { margin-top: 1.5rem; font: inherit; font-weight: 700; color: #fff; background: var(--accent); border: 0; border-radius: 2px; padding: .6rem 1.2rem; cursor: pointer; }
button:hover { background: var(--accent-dark); }
.error { border-left: 4px solid var(--error); background: #fee7e6; padding: .75rem 1rem; }
.ok { border-left: 4px solid var(--ok); background: #d5fdf4; padding: .75rem 1rem; }
.ticket { display: block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1rem; word-break: break-all; background: var(--wash); border: 1px dashed var(--line); padding: .75rem; user-select: all; }
ul.servers { padding-left: 1.25rem; }
.row { display: flex; gap: 1rem; } .row > div { flex: 1; }
footer { text-align: center; color: var(--muted); font-size: .875rem; padding-bottom: 2rem; }
`;
