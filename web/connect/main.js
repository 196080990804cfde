// The customer connect page (README "Connect links"): opened from a link the vendor sent,
// `/connect/{tenant}/{token}`. It shows this ATS's setup steps with the URLs and the key (issued
// on the first view, shown once), takes what the bridge needs back, and ends "connected".
import { render } from "preact";
import { useState, useEffect } from "preact/hooks";
import { request, when } from "../shared/api.js";
import { html, Field, CopyField, Notice, useAction, useFocus } from "../shared/ui.js";

const [, , tenant, token] = location.pathname.split("/");
const base = `/connect/${encodeURIComponent(tenant)}/${encodeURIComponent(token)}`;

function Gone() {
  const heading = useFocus("gone");
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>This link no longer works</h1>
    <p>It has expired or was revoked. Ask the vendor who sent it for a new link.</p>
  </main>`;
}

// A link connects once (README "Connect links"): opened again, or submitted from a second tab
// after the first connected, it says so and how to change the credentials.
function Connected({ session, at, used }) {
  const heading = useFocus("connected");
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}><span aria-hidden="true">✓ </span>Connected</h1>
    <p class="notice ok" role="status">${session.providerName} is connected${at ? ` (${when(at)})` : ""}. You can close this page.</p>
    ${used ? html`<p class="notice info">This link has already been used. To change the credentials, ask the vendor who sent it for a new link.</p>` : null}
  </main>`;
}

function Setup({ session, onConnected }) {
  const [values, setValues] = useState(Object.fromEntries(session.fields.map((f) => [f.name, ""])));
  const act = useAction();
  const heading = useFocus("setup");
  const who = session.tenant.name || session.tenant.id;
  async function submit(e) {
    e.preventDefault();
    await act.run(async () => {
      const filled = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
      try {
        const r = await request("POST", `${base}/complete`, { body: filled });
        onConnected(r.connectedAt, false);
      } catch (e) {
        if (e.code === "connect_link_used") onConnected(null, true);
        else throw e;
      }
    });
  }
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>Connect ${session.providerName}</h1>
    <p>For <strong>${who}</strong>. This link works until ${when(session.expiresAt)}.</p>
    <section class="card" aria-labelledby="steps-h">
      <h2 id="steps-h">In ${session.providerName}</h2>
      <ol class="steps">${session.steps.map((s) => html`<li>${s}</li>`)}</ol>
      ${session.urls.map((u) => html`<${CopyField} label=${u.label} value=${u.value} />`)}
      ${session.key.value
        ? html`<div class="reveal">
            <${CopyField} label=${session.key.label} value=${session.key.value} secret />
            <p class="notice warn" role="note"><strong>Copy the key now.</strong> It is shown only this once; opening the link again will not show it.</p>
          </div>`
        : html`<p class="notice info">The ${session.key.label} was shown when this page was first opened (${when(session.key.issuedAt)}). If you no longer have it, ask the vendor for a new link.</p>`}
    </section>
    <section class="card" aria-labelledby="finish-h">
      <h2 id="finish-h">${session.fields.some((f) => !f.optional) ? "What we need from you" : session.fields.length ? "Optional: more from you" : "Finish"}</h2>
      <form onSubmit=${submit}>
        ${session.fields.map((f) => html`<${Field} label=${f.label} name=${f.name} type=${f.secret ? "password" : "text"} required=${!f.optional} hint=${f.help}
            value=${values[f.name]} onInput=${(v) => setValues({ ...values, [f.name]: v })} />`)}
        ${session.note ? html`<p>${session.note}</p>` : null}
        <${Notice} error=${act.error} />
        <button type="submit" disabled=${act.busy}>${act.busy ? "Checking…" : session.fields.length ? "Check and connect" : "I have done these steps"}</button>
      </form>
    </section>
  </main>`;
}

function App() {
  const [session, setSession] = useState(null);
  const [gone, setGone] = useState(false);
  const [connected, setConnected] = useState(null); // {at, used}
  const act = useAction();
  useEffect(() => {
    act.run(async () => {
      try {
        const s = await request("POST", `${base}/session`, { body: {} });
        setSession(s);
        if (s.state === "connected") setConnected({ at: s.connectedAt, used: true });
      } catch (e) {
        if (e.status === 404) setGone(true);
        else throw e;
      }
    });
  }, []);
  if (gone) return html`<${Gone} />`;
  if (connected && session) return html`<${Connected} session=${session} at=${connected.at} used=${connected.used} />`;
  if (session) return html`<${Setup} session=${session} onConnected=${(at, used) => setConnected({ at, used })} />`;
  return html`<main id="main" class="narrow"><h1>Connect your ATS</h1>
    ${act.error ? html`<${Notice} error=${act.error} />` : html`<p role="status">Loading…</p>`}</main>`;
}

render(html`<${App} />`, document.getElementById("app"));
