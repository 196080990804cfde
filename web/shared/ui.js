// Small accessible building blocks shared by the console and the connect page.
import { h } from "preact";
import { useState, useRef, useEffect } from "preact/hooks";
import htm from "htm";
import { copyText } from "./api.js";

export const html = htm.bind(h);

let seq = 0;
/** A stable id for label/aria wiring. */
export function useId(prefix = "f") {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++seq}`;
  return ref.current;
}

/** A labelled form field. `hint` is tied to the input with aria-describedby. */
export function Field({ label, hint, type = "text", value, onInput, required, name, autocomplete, placeholder, inputmode, readonly, children }) {
  const id = useId(name || "field");
  const hintId = hint ? `${id}-hint` : undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children
      ? children(id, hintId)
      : html`<input id=${id} name=${name} type=${type} value=${value} required=${required}
          autocomplete=${autocomplete || "off"} placeholder=${placeholder} inputmode=${inputmode}
          readonly=${readonly} aria-describedby=${hintId}
          onInput=${(e) => onInput && onInput(e.currentTarget.value)} />`}
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
  </div>`;
}

/** A read-only value with a copy button; the result is announced to screen readers. */
export function CopyField({ label, value, secret }) {
  const id = useId("copy");
  const [said, setSaid] = useState("");
  const input = useRef(null);
  async function copy() {
    if (await copyText(value)) setSaid(`${label} copied`);
    else {
      input.current.select();
      setSaid("Select the text and copy it with your keyboard");
    }
  }
  return html`<div class="field copy">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input id=${id} ref=${input} readonly value=${value} class=${secret ? "mono secret" : "mono"}
        onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="secondary" onClick=${copy} aria-label=${`Copy ${label}`}>Copy</button>
    </div>
    <p class="sr-status" role="status" aria-live="polite">${said}</p>
  </div>`;
}

/** An error or notice region; errors are announced at once. */
export function Notice({ error, children, kind = "info" }) {
  if (error) return html`<p class="notice error" role="alert">${error.message || String(error)}</p>`;
  if (!children) return null;
  return html`<p class=${`notice ${kind}`} role="status">${children}</p>`;
}

/** A state badge (text, not colour alone, carries the meaning). */
export function Badge({ value }) {
  return html`<span class=${`badge badge-${String(value).toLowerCase().replace(/[^a-z0-9]+/g, "-")}`}>${value}</span>`;
}

/** Run an async action with a busy flag and an error slot. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function run(fn) {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run, setError };
}

/** Move keyboard focus to the element once it renders (headings after navigation). */
export function useFocus(dep) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, [dep]);
  return ref;
}
