// The operator console (README "Console and connect page"): one page, hash routes, every
// screen built on the /v1 API with the admin token from this tab's session storage.
import { render } from "preact";
import { useState, useEffect, useCallback } from "preact/hooks";
import { request, TOKEN_KEY, when } from "../shared/api.js";
import { html, Field, CopyField, Notice, Badge, useAction, useFocus } from "../shared/ui.js";

const STATUSES = ["PENDING", "STARTED", "IN_PROGRESS", "COMPLETED", "REJECTED", "EXPIRED", "CANCELLED"];
const enc = encodeURIComponent;

function getToken() { return sessionStorage.getItem(TOKEN_KEY); }
/** Call /v1 with the session's token; a 401 (token wrong or rotated) signs the tab out. */
async function api(method, path, body) {
  try {
    return await request(method, path, { body, token: getToken() });
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      dispatchEvent(new Event("ats-bridge:signed-out"));
    }
    throw e;
  }
}

// ---- routing -------------------------------------------------------------------------------

/** Percent-decoding that never throws: a malformed escape (`%E0%A4%A`, `%ZZ`) gives null. */
function decodeSegment(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeSegment);
  // A hash that does not decode names no tenant: show the tenant list.
  if (parts.includes(null)) return { screen: "tenants" };
  if (parts[0] === "t" && parts[1]) {
    if (parts[2] === "assessments" && parts[3]) return { screen: "assessment", tenant: parts[1], id: parts[3] };
    return { screen: "tenant", tenant: parts[1], tab: parts[2] || "overview" };
  }
  return { screen: "tenants" };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

// ---- sign in -------------------------------------------------------------------------------

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const act = useAction();
  const heading = useFocus("signin");
  async function submit(e) {
    e.preventDefault();
    await act.run(async () => {
      await request("GET", "/v1/tenants?limit=1", { token });
      sessionStorage.setItem(TOKEN_KEY, token);
      onSignedIn();
    });
  }
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>Sign in</h1>
    <p>Use the deployment's admin token. It stays in this tab only and is sent as a header, never in a link.</p>
    <form onSubmit=${submit}>
      <${Field} label="Admin token" name="token" type="password" value=${token} onInput=${setToken} required autocomplete="current-password" />
      <${Notice} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${act.busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

// ---- tenants -------------------------------------------------------------------------------

function Tenants() {
  const [prefix, setPrefix] = useState("");
  const [page, setPage] = useState({ data: [], next_cursor: null });
  const list = useAction();
  const heading = useFocus("tenants");
  const load = useCallback(async (cursor) => {
    await list.run(async () => {
      const q = new URLSearchParams({ limit: "50" });
      if (prefix.trim()) q.set("prefix", prefix.trim());
      if (cursor) q.set("cursor", cursor);
      const p = await api("GET", `/v1/tenants?${q}`);
      setPage((old) => ({ data: cursor ? [...old.data, ...p.data] : p.data, next_cursor: p.next_cursor }));
    });
  }, [prefix]);
  useEffect(() => { const t = setTimeout(() => load(), 200); return () => clearTimeout(t); }, [prefix]);
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>Tenants</h1>
    <section aria-labelledby="search-h">
      <h2 id="search-h" class="sr-only">Search</h2>
      <form role="search" onSubmit=${(e) => { e.preventDefault(); load(); }}>
        <${Field} label="Search by tenant id" name="prefix" type="search" value=${prefix} onInput=${setPrefix}
          hint="Tenants whose id starts with this text." />
      </form>
      <${Notice} error=${list.error} />
      ${page.data.length === 0 && !list.busy
        ? html`<p>No tenants${prefix ? ` starting with “${prefix}”` : ""}.</p>`
        : html`<ul class="tenant-list" aria-label="Tenants">
            ${page.data.map((t) => html`<li key=${t.id}><a href=${`#/t/${enc(t.id)}`}>${t.id}</a></li>`)}
          </ul>`}
      ${page.next_cursor ? html`<button class="secondary" onClick=${() => load(page.next_cursor)} disabled=${list.busy}>Load more</button>` : null}
    </section>
    <${CreateTenant} />
  </main>`;
}

function CreateTenant() {
  const [form, setForm] = useState({ id: "", name: "", url: "" });
  const [created, setCreated] = useState(null);
  const act = useAction();
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  async function submit(e) {
    e.preventDefault();
    await act.run(async () => {
      const body = { id: form.id.trim(), webhook: { url: form.url.trim() } };
      if (form.name.trim()) body.name = form.name.trim();
      setCreated(await api("POST", "/v1/tenants", body));
      setForm({ id: "", name: "", url: "" });
    });
  }
  return html`<section aria-labelledby="create-h" class="card">
    <h2 id="create-h">Create a tenant</h2>
    <form onSubmit=${submit}>
      <${Field} label="Tenant id" name="id" value=${form.id} onInput=${set("id")} required
        hint="Lowercase letters, digits and “-”; it appears in the ATS URLs." />
      <${Field} label="Name" name="name" value=${form.name} onInput=${set("name")} />
      <${Field} label="Webhook URL" name="webhook" type="url" inputmode="url" value=${form.url} onInput=${set("url")} required
        hint="Where your backend receives this tenant's signed events." />
      <${Notice} error=${act.error} />
      <button type="submit" disabled=${act.busy}>Create tenant</button>
    </form>
    ${created ? html`<div class="reveal" role="region" aria-label="New tenant">
      <p><strong>Tenant ${created.id} created.</strong> Copy the webhook signing secret now: it is not shown again.</p>
      <${CopyField} label="Webhook signing secret" value=${created.webhook.secret} secret />
      <p><a href=${`#/t/${enc(created.id)}`}>Open ${created.id}</a></p>
    </div>` : null}
  </section>`;
}

// ---- one tenant ----------------------------------------------------------------------------

const TABS = [
  ["overview", "Overview"], ["keys", "Keys"], ["packages", "Packages"], ["assessments", "Assessments"],
  ["deliveries", "Deliveries"], ["connect", "Connect links"],
];

function Tenant({ id, tab }) {
  const [tenant, setTenant] = useState(null);
  const act = useAction();
  const heading = useFocus(`${id}/${tab}`);
  const reload = () => act.run(async () => setTenant(await api("GET", `/v1/tenants/${enc(id)}`)));
  useEffect(() => { setTenant(null); reload(); }, [id]);
  const Tab = { overview: Overview, keys: Keys, packages: Packages, assessments: Assessments, deliveries: Deliveries, connect: ConnectLinks }[tab] || Overview;
  return html`<main id="main">
    <p class="crumbs"><a href="#/">Tenants</a> / ${id}</p>
    <h1 tabindex="-1" ref=${heading}>${tenant?.name || id} <small class="muted">${tab === "overview" ? "" : "· " + (TABS.find((t) => t[0] === tab) || TABS[0])[1]}</small></h1>
    <nav aria-label="Tenant sections" class="tabs">
      ${TABS.map(([k, label]) => html`<a href=${`#/t/${enc(id)}/${k}`} aria-current=${k === tab ? "page" : undefined}>${label}</a>`)}
    </nav>
    <${Notice} error=${act.error} />
    ${tenant ? html`<${Tab} tenant=${tenant} reload=${reload} />` : act.busy ? html`<p>Loading…</p>` : null}
  </main>`;
}

/** Each provider's credential fields from the tenant view: `{field, secret, value|set}`. */
function credentialFields(t) {
  return Object.keys(t.providers)
    .filter((p) => t[p] && typeof t[p] === "object")
    .map((p) => ({
      provider: p,
      fields: Object.entries(t[p]).map(([k, v]) => k.endsWith("_set")
        ? { field: k.slice(0, -4), secret: true, set: v === true }
        : { field: k, secret: false, value: v ?? "" }),
    }));
}
const human = (s) => s.replace(/_/g, " ");
/** A credential typed as a JSON object (e.g. `greenhouse.harvest`: `{"client_id","client_secret"}`) is sent as one. */
function objectOrText(v) {
  if (!v.startsWith("{")) return v;
  try { return JSON.parse(v); } catch { return v; }
}

function Overview({ tenant, reload }) {
  const t = tenant;
  const [form, setForm] = useState({
    name: t.name || "", url: t.webhook.url, packages_url: t.packages_url || "", static_package_id: t.static_package_id || "",
  });
  const creds = credentialFields(t);
  const initial = Object.fromEntries(creds.flatMap((c) => c.fields.map((f) => [`${c.provider}.${f.field}`, f.secret ? "" : f.value])));
  const [values, setValues] = useState(initial);
  const [secret, setSecret] = useState(null);
  const [ping, setPing] = useState(null);
  const save = useAction(), cred = useAction(), wh = useAction();
  const set = (k) => (v) => setForm({ ...form, [k]: v });
  const opt = (v) => (v.trim() ? v.trim() : null);
  return html`
    <section class="card" aria-labelledby="cfg-h">
      <h2 id="cfg-h">Configuration</h2>
      <dl class="facts">
        <dt>Tenant id</dt><dd class="mono">${t.id}</dd>
        <dt>Webhook</dt><dd><span class="mono">${t.webhook.url}</span> <${Badge} value=${t.webhook.enabled ? "enabled" : "disabled (410)"} />${t.webhook.secret_rotating ? html` <${Badge} value="secret rotating" />` : null}</dd>
        <dt>Packages source</dt><dd>${t.packages_url ? html`<span class="mono">${t.packages_url}</span>` : t.packages.length ? `${t.packages.length} stored package${t.packages.length === 1 ? "" : "s"}` : t.static_package_id ? `static package ${t.static_package_id}` : "none"}</dd>
        ${creds.map((c) => html`<dt>${c.provider} credentials</dt><dd>${c.fields.map((f) => f.secret ? `${human(f.field)}: ${f.set ? "set" : "not set"}` : `${human(f.field)}: ${f.value || "—"}`).join(" · ")}</dd>`)}
        <dt>Created</dt><dd>${when(t.createdAt)}</dd><dt>Updated</dt><dd>${when(t.updatedAt)}</dd>
      </dl>
      <form onSubmit=${async (e) => { e.preventDefault(); await save.run(async () => {
        await api("PATCH", `/v1/tenants/${enc(t.id)}`, { name: opt(form.name), webhook: { url: form.url.trim() }, packages_url: opt(form.packages_url), static_package_id: opt(form.static_package_id) });
        await reload(); }); }}>
        <h3>Edit</h3>
        <${Field} label="Name" name="name" value=${form.name} onInput=${set("name")} />
        <${Field} label="Webhook URL" name="webhook" type="url" value=${form.url} onInput=${set("url")} required
          hint="Saving the webhook URL re-enables an endpoint disabled by a 410." />
        <${Field} label="Packages URL" name="packages_url" type="url" value=${form.packages_url} onInput=${set("packages_url")} hint="Your endpoint that lists packages; empty: use the stored list." />
        <${Field} label="Static package id" name="static_package_id" value=${form.static_package_id} onInput=${set("static_package_id")} />
        <${Notice} error=${save.error} />
        <button type="submit" disabled=${save.busy}>Save configuration</button>
      </form>
    </section>
    ${creds.length ? html`<section class="card" aria-labelledby="creds-h">
      <h2 id="creds-h">ATS credentials for results</h2>
      <form onSubmit=${async (e) => { e.preventDefault(); await cred.run(async () => {
        const body = {};
        for (const c of creds) {
          const change = {};
          for (const f of c.fields) {
            const v = values[`${c.provider}.${f.field}`].trim();
            if (f.secret ? v !== "" : v !== (f.value || "")) change[f.field] = v === "" ? null : objectOrText(v);
          }
          if (Object.keys(change).length) body[c.provider] = change;
        }
        await api("PATCH", `/v1/tenants/${enc(t.id)}`, body);
        setValues(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, creds.some((c) => c.fields.some((f) => f.secret && `${c.provider}.${f.field}` === k)) ? "" : v])));
        await reload(); }); }}>
        ${creds.map((c) => html`<fieldset><legend>${c.provider}</legend>
          ${c.fields.map((f) => html`<${Field} label=${`${c.provider} ${human(f.field)}`} name=${`${c.provider}_${f.field}`}
            type=${f.secret ? "password" : "text"} value=${values[`${c.provider}.${f.field}`]}
            onInput=${(v) => setValues({ ...values, [`${c.provider}.${f.field}`]: v })}
            hint=${(f.secret ? (f.set ? "Set. Type a new value to replace it." : "Not set.") : "Empty the field to clear it.")
              + (f.field === "harvest" ? ' A JSON object: {"client_id": "…", "client_secret": "…", "user_id": "…"} (README "Order enrichment").' : "")} />`)}
        </fieldset>`)}
        <${Notice} error=${cred.error} />
        <button type="submit" disabled=${cred.busy}>Save credentials</button>
      </form>
    </section>` : null}
    <section class="card" aria-labelledby="wh-h">
      <h2 id="wh-h">Webhook</h2>
      <div class="actions">
        <button class="secondary" disabled=${wh.busy} onClick=${() => wh.run(async () => { setPing(await api("POST", `/v1/tenants/${enc(t.id)}/webhook/test`)); })}>Send a test ping</button>
        <button class="secondary" disabled=${wh.busy} onClick=${() => confirm("Rotate the webhook signing secret? The old one keeps co-signing for 24 hours.") && wh.run(async () => { setSecret(await api("POST", `/v1/tenants/${enc(t.id)}/webhook/secret`)); })}>Rotate signing secret</button>
      </div>
      <${Notice} error=${wh.error}>${ping ? html`Ping queued as event <span class="mono">${ping.eventId}</span>.` : null}</${Notice}>
      ${secret ? html`<div class="reveal"><p>New signing secret, shown once:</p><${CopyField} label="Webhook signing secret" value=${secret.secret} secret /></div>` : null}
    </section>`;
}

function Keys({ tenant, reload }) {
  const [issued, setIssued] = useState(null);
  const [grace, setGrace] = useState("0");
  const act = useAction();
  const t = tenant;
  return html`<section class="card" aria-labelledby="keys-h">
    <h2 id="keys-h">Provider keys</h2>
    <p>Each ATS calls its URL with this tenant's key. Issuing again rotates the key; revoking stops it at once.</p>
    <${Field} label="Old key keeps working for (seconds) when rotating" name="grace" type="number" inputmode="numeric" value=${grace} onInput=${setGrace}
      hint="0 stops the old key on the very next request; at most 604800 (7 days)." />
    <div class="table-wrap"><table>
      <caption class="sr-only">Provider keys</caption>
      <thead><tr><th scope="col">Provider</th><th scope="col">Key</th><th scope="col">Base URL</th><th scope="col">Actions</th></tr></thead>
      <tbody>${Object.entries(t.providers).map(([p, k]) => html`<tr key=${p}>
        <th scope="row">${p}</th>
        <td>${k.key_set ? html`<${Badge} value="active" /> since ${when(k.keyCreatedAt)}` : html`<${Badge} value="none" />`}</td>
        <td class="mono wrap">${k.baseUrl}</td>
        <td class="actions">
          <button disabled=${act.busy} onClick=${() => act.run(async () => {
            const body = { provider: p };
            if (k.key_set && Number(grace) > 0) body.previous_key_ttl_seconds = Number(grace);
            setIssued(await api("POST", `/v1/tenants/${enc(t.id)}/secrets`, body));
            await reload();
          })}>${k.key_set ? `Rotate ${p} key` : `Issue ${p} key`}</button>
          ${k.key_set ? html`<button class="danger" disabled=${act.busy} onClick=${() => confirm(`Revoke the ${p} key? ${p} calls fail from the next request.`) && act.run(async () => {
            await api("DELETE", `/v1/tenants/${enc(t.id)}/secrets/${p}`); setIssued(null); await reload();
          })}>Revoke</button>` : null}
        </td></tr>`)}</tbody>
    </table></div>
    <${Notice} error=${act.error} />
    ${issued ? html`<div class="reveal" role="region" aria-label="New key">
      <p><strong>New ${issued.provider} key</strong>, shown once.${issued.previousKeyValidUntil ? ` The previous key works until ${when(issued.previousKeyValidUntil)}.` : ""}</p>
      <${CopyField} label=${`${issued.provider} key`} value=${issued.secretKey} secret />
      <${CopyField} label="Base URL" value=${issued.baseUrl} />
    </div>` : null}
  </section>`;
}

function Packages({ tenant, reload }) {
  const [items, setItems] = useState(tenant.packages);
  const [draft, setDraft] = useState({ id: "", name: "", description: "", type: "" });
  const act = useAction();
  const [saved, setSaved] = useState(false);
  const set = (k) => (v) => setDraft({ ...draft, [k]: v });
  return html`<section class="card" aria-labelledby="pk-h">
    <h2 id="pk-h">Packages</h2>
    <p>What recruiters can pick in the ATS (used when no packages URL is set).</p>
    ${items.length === 0 ? html`<p>No stored packages.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Type</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${items.map((p, i) => html`<tr key=${p.id}>
        <td class="mono">${p.id}</td><td>${p.name}</td><td>${p.description || ""}</td><td>${p.type || ""}</td>
        <td><button class="secondary" onClick=${() => { setSaved(false); setItems(items.filter((_, j) => j !== i)); }} aria-label=${`Remove ${p.name}`}>Remove</button></td>
      </tr>`)}</tbody></table></div>`}
    <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); if (!draft.id.trim() || !draft.name.trim()) return;
        const p = { id: draft.id.trim(), name: draft.name.trim() };
        if (draft.description.trim()) p.description = draft.description.trim();
        if (draft.type.trim()) p.type = draft.type.trim();
        setItems([...items.filter((x) => x.id !== p.id), p]); setSaved(false);
        setDraft({ id: "", name: "", description: "", type: "" }); }}>
      <h3>Add a package</h3>
      <${Field} label="Package id" name="pkg_id" value=${draft.id} onInput=${set("id")} required />
      <${Field} label="Package name" name="pkg_name" value=${draft.name} onInput=${set("name")} required />
      <${Field} label="Description" name="pkg_desc" value=${draft.description} onInput=${set("description")} />
      <${Field} label="Type" name="pkg_type" value=${draft.type} onInput=${set("type")} />
      <button type="submit" class="secondary">Add to list</button>
    </form>
    <${Notice} error=${act.error}>${saved ? "Packages saved." : null}</${Notice}>
    <button disabled=${act.busy} onClick=${() => act.run(async () => { await api("PUT", `/v1/tenants/${enc(tenant.id)}/packages`, items); setSaved(true); await reload(); })}>Save packages</button>
  </section>`;
}

function Assessments({ tenant }) {
  const [status, setStatus] = useState("");
  const [provider, setProvider] = useState("");
  const [page, setPage] = useState({ data: [], next_cursor: null });
  const act = useAction();
  const load = (cursor) => act.run(async () => {
    const q = new URLSearchParams({ limit: "25" });
    if (status) q.set("status", status);
    if (provider) q.set("provider", provider);
    if (cursor) q.set("cursor", cursor);
    const p = await api("GET", `/v1/tenants/${enc(tenant.id)}/assessments?${q}`);
    setPage((old) => ({ data: cursor ? [...old.data, ...p.data] : p.data, next_cursor: p.next_cursor }));
  });
  useEffect(() => { load(); }, [status, provider]);
  return html`<section class="card" aria-labelledby="as-h">
    <h2 id="as-h">Assessments</h2>
    <div class="filters">
      <${Field} label="Status" name="status">${(id) => html`<select id=${id} value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        <option value="">Any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select>`}</${Field}>
      <${Field} label="Provider" name="provider">${(id) => html`<select id=${id} value=${provider} onChange=${(e) => setProvider(e.currentTarget.value)}>
        <option value="">Any</option>${Object.keys(tenant.providers).map((p) => html`<option value=${p}>${p}</option>`)}</select>`}</${Field}>
      <button class="secondary" onClick=${() => load()} disabled=${act.busy}>Refresh</button>
    </div>
    <${Notice} error=${act.error} />
    ${page.data.length === 0 && !act.busy ? html`<p>No assessments match.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Candidate</th><th scope="col">Package</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
      <tbody>${page.data.map((a) => html`<tr key=${a.id}>
        <td><a href=${`#/t/${enc(tenant.id)}/assessments/${enc(a.id)}`}>${candidateName(a)}</a><br/><span class="mono small">${a.id}</span></td>
        <td>${a.assessmentPackage?.name || a.assessmentPackage?.id || "—"}</td>
        <td>${a.provider}</td><td><${Badge} value=${a.status} /></td><td>${when(a.createdAt)}</td>
      </tr>`)}</tbody></table></div>`}
    ${page.next_cursor ? html`<button class="secondary" onClick=${() => load(page.next_cursor)} disabled=${act.busy}>Load more</button>` : null}
  </section>`;
}

function candidateName(a) {
  const c = a.candidate || {};
  return [c.firstName, c.lastName].filter(Boolean).join(" ") || c.emails?.[0]?.email || "(no name)";
}

function Assessment({ tenant, id }) {
  const [a, setA] = useState(null);
  const [events, setEvents] = useState([]);
  const act = useAction();
  const heading = useFocus(id);
  const load = () => act.run(async () => {
    setA(await api("GET", `/v1/tenants/${enc(tenant)}/assessments/${enc(id)}`));
    setEvents((await api("GET", `/v1/tenants/${enc(tenant)}/events?record_id=${enc(id)}&limit=100`)).data);
  });
  useEffect(() => { load(); }, [tenant, id]);
  return html`<main id="main">
    <p class="crumbs"><a href="#/">Tenants</a> / <a href=${`#/t/${enc(tenant)}/assessments`}>${tenant}</a> / assessment</p>
    <h1 tabindex="-1" ref=${heading}>${a ? candidateName(a) : "Assessment"}</h1>
    <${Notice} error=${act.error} />
    ${a ? html`
      <section class="card" aria-labelledby="a-h">
        <h2 id="a-h">Order</h2>
        <dl class="facts">
          <dt>Assessment id</dt><dd class="mono">${a.id}</dd>
          <dt>Status</dt><dd><${Badge} value=${a.status} /></dd>
          <dt>Provider</dt><dd>${a.provider}</dd>
          <dt>Package</dt><dd>${a.assessmentPackage?.name || "—"} <span class="mono small">${a.assessmentPackage?.id || ""}</span></dd>
          <dt>Candidate email</dt><dd>${a.candidate?.emails?.[0]?.email || "—"}</dd>
          <dt>Job</dt><dd>${a.job?.name || a.jobId || "—"}</dd>
          <dt>Created</dt><dd>${when(a.createdAt)}</dd><dt>Updated</dt><dd>${when(a.updatedAt)}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="sync-h">
        <h2 id="sync-h">Result and provider sync</h2>
        ${a.result ? html`<pre class="json">${JSON.stringify(a.result, null, 2)}</pre>` : html`<p>No result yet.</p>`}
        <h3>Provider sync</h3>
        ${a.providerSync ? html`<dl class="facts">${Object.entries(a.providerSync).map(([k, v]) => html`<dt>${k}</dt><dd class="wrap">${typeof v === "object" ? JSON.stringify(v) : String(v)}</dd>`)}</dl>` : html`<p>Nothing sent to the ATS yet.</p>`}
        ${a.providerErrors?.length ? html`<h3>Provider errors</h3><ul>${a.providerErrors.map((e) => html`<li class="wrap">${typeof e === "object" ? JSON.stringify(e) : String(e)}</li>`)}</ul>` : null}
      </section>
      <${PostResult} tenant=${tenant} id=${id} onDone=${load} />
      <section class="card" aria-labelledby="ev-h">
        <h2 id="ev-h">Events</h2>
        ${events.length === 0 ? html`<p>No events.</p>` : html`<ul class="events">${events.map((e) => html`<li key=${e.eventId}><${EventRow} tenant=${tenant} ev=${e} onReplayed=${load} /></li>`)}</ul>`}
      </section>` : null}
  </main>`;
}

function PostResult({ tenant, id, onDone }) {
  const [f, setF] = useState({ status: "COMPLETED", score: "", max_score: "100", result_url: "", summary: "" });
  const [answer, setAnswer] = useState(null);
  const act = useAction();
  const set = (k) => (v) => setF({ ...f, [k]: v });
  return html`<section class="card" aria-labelledby="res-h">
    <h2 id="res-h">Post a test result</h2>
    <form onSubmit=${async (e) => { e.preventDefault(); await act.run(async () => {
      const body = { status: f.status };
      if (f.score !== "") body.score = Number(f.score);
      if (f.max_score !== "" && f.score !== "") body.max_score = Number(f.max_score);
      if (f.result_url.trim()) body.result_url = f.result_url.trim();
      if (f.summary.trim()) body.summary = f.summary.trim();
      setAnswer(await api("POST", `/v1/tenants/${enc(tenant)}/assessments/${enc(id)}/result`, body));
      await onDone(); }); }}>
      <${Field} label="Status" name="result_status">${(fid) => html`<select id=${fid} value=${f.status} onChange=${(e) => set("status")(e.currentTarget.value)}>
        ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select>`}</${Field}>
      <${Field} label="Score" name="score" type="number" inputmode="decimal" value=${f.score} onInput=${set("score")} />
      <${Field} label="Maximum score" name="max_score" type="number" inputmode="decimal" value=${f.max_score} onInput=${set("max_score")} />
      <${Field} label="Result URL" name="result_url" type="url" value=${f.result_url} onInput=${set("result_url")} hint="Required for COMPLETED (https)." />
      <${Field} label="Summary" name="summary" value=${f.summary} onInput=${set("summary")} />
      <${Notice} error=${act.error}>${answer ? "Result stored and queued for the ATS." : null}</${Notice}>
      <button type="submit" disabled=${act.busy}>Post result</button>
    </form>
  </section>`;
}

/** One event: summary line, expandable to its attempts, with a replay button. */
function EventRow({ tenant, ev, onReplayed }) {
  const [detail, setDetail] = useState(null);
  const [open, setOpen] = useState(false);
  const act = useAction();
  async function toggle() {
    if (!open && !detail) await act.run(async () => setDetail(await api("GET", `/v1/tenants/${enc(tenant)}/events/${enc(ev.eventId)}`)));
    setOpen(!open);
  }
  return html`<div class="event">
    <div class="event-line">
      <button class="link" aria-expanded=${open} onClick=${toggle}>${ev.eventType} <span class="mono small">${ev.eventId}</span></button>
      <${Badge} value=${ev.state} />
      <span class="small">${ev.attemptCount} attempt${ev.attemptCount === 1 ? "" : "s"} · ${when(ev.createdAt)}</span>
      ${ev.state !== "pending" ? html`<button class="secondary" disabled=${act.busy} onClick=${() => act.run(async () => { await api("POST", `/v1/tenants/${enc(tenant)}/events/${enc(ev.eventId)}/replay`); setDetail(null); setOpen(false); await onReplayed(); })} aria-label=${`Replay ${ev.eventId}`}>Replay</button>` : null}
    </div>
    ${ev.heldReason && ev.heldReason !== ev.lastError ? html`<p class="small">Held: ${ev.heldReason}</p>` : null}
    ${ev.lastError ? html`<p class="small error-text">${ev.lastError}</p>` : null}
    <${Notice} error=${act.error} />
    ${open && detail ? html`<div class="table-wrap"><table>
      <caption>Attempts of ${ev.eventId}</caption>
      <thead><tr><th scope="col">At</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Error / response</th></tr></thead>
      <tbody>${detail.attempts.length === 0 ? html`<tr><td colspan="4">No attempts yet.</td></tr>` : detail.attempts.map((a, i) => html`<tr key=${i}>
        <td>${when(a.at)}</td><td>${a.status ?? "no answer"}</td><td>${a.latencyMs} ms</td><td class="wrap small">${a.error || a.response || ""}</td></tr>`)}</tbody>
    </table></div>` : null}
  </div>`;
}

function Deliveries({ tenant }) {
  const [state, setState] = useState("failed");
  const [page, setPage] = useState({ data: [], next_cursor: null });
  const [note, setNote] = useState(null);
  const act = useAction();
  const load = (cursor) => act.run(async () => {
    const q = new URLSearchParams({ limit: "50" });
    if (state) q.set("state", state);
    if (cursor) q.set("cursor", cursor);
    const p = await api("GET", `/v1/tenants/${enc(tenant.id)}/events?${q}`);
    setPage((old) => ({ data: cursor ? [...old.data, ...p.data] : p.data, next_cursor: p.next_cursor }));
  });
  useEffect(() => { setNote(null); load(); }, [state]);
  return html`<${WebhookEndpoints} tenant=${tenant} /><section class="card" aria-labelledby="dl-h">
    <h2 id="dl-h">Deliveries</h2>
    <div class="filters">
      <${Field} label="State" name="state">${(id) => html`<select id=${id} value=${state} onChange=${(e) => setState(e.currentTarget.value)}>
        <option value="failed">failed</option><option value="pending">pending</option><option value="delivered">delivered</option><option value="">any</option></select>`}</${Field}>
      <button class="secondary" onClick=${() => load()} disabled=${act.busy}>Refresh</button>
      <button disabled=${act.busy} onClick=${() => act.run(async () => {
        const r = await api("POST", `/v1/tenants/${enc(tenant.id)}/events/replay`);
        setNote(`${r.replayed} failed event${r.replayed === 1 ? "" : "s"} queued again.`);
        await load();
      })}>Replay all failed</button>
    </div>
    <${Notice} error=${act.error}>${note}</${Notice}>
    ${page.data.length === 0 && !act.busy ? html`<p>No ${state || ""} events.</p>` : html`<ul class="events">${page.data.map((e) => html`<li key=${e.eventId}><${EventRow} tenant=${tenant.id} ev=${e} onReplayed=${() => load()} /></li>`)}</ul>`}
    ${page.next_cursor ? html`<button class="secondary" onClick=${() => load(page.next_cursor)} disabled=${act.busy}>Load more</button>` : null}
  </section>`;
}

/** The tenant's webhook endpoints besides its `webhook` (README "Webhook endpoints"): list only. */
function WebhookEndpoints({ tenant }) {
  const [endpoints, setEndpoints] = useState(null);
  const act = useAction();
  useEffect(() => { act.run(async () => setEndpoints((await api("GET", `/v1/tenants/${enc(tenant.id)}/webhooks`)).data)); }, [tenant.id]);
  return html`<section class="card" aria-labelledby="we-h">
    <h2 id="we-h">Webhook endpoints</h2>
    <p>Besides the webhook (${html`<span class="mono">${tenant.webhook.url}</span>`}), every event also goes to each endpoint whose event types take it, signed with that endpoint's own secret.</p>
    <${Notice} error=${act.error} />
    ${endpoints === null ? null : endpoints.length === 0 ? html`<p>No webhook endpoints.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Endpoint</th><th scope="col">URL</th><th scope="col">Event types</th><th scope="col">State</th></tr></thead>
      <tbody>${endpoints.map((e) => html`<tr key=${e.id}>
        <td>${e.description || ""}<br/><span class="mono small">${e.id}</span></td><td class="mono">${e.url}</td>
        <td>${e.event_types.length ? e.event_types.join(", ") : "all"}</td>
        <td><${Badge} value=${e.disabled ? "disabled (410)" : "enabled"} /></td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}

function ConnectLinks({ tenant }) {
  const providers = Object.keys(tenant.providers);
  const [provider, setProvider] = useState(providers[0]);
  const [ttl, setTtl] = useState("604800");
  const [links, setLinks] = useState([]);
  const [created, setCreated] = useState(null);
  const act = useAction();
  const base = `/v1/tenants/${enc(tenant.id)}/connect-links`;
  const load = () => act.run(async () => setLinks((await api("GET", base)).data));
  useEffect(() => { load(); }, [tenant.id]);
  return html`<section class="card" aria-labelledby="cl-h">
    <h2 id="cl-h">Connect links</h2>
    <p>Send a link to the customer: it walks them through their ATS's setup, shows the key once and collects what the bridge needs.</p>
    <form class="filters" onSubmit=${async (e) => { e.preventDefault(); await act.run(async () => {
      setCreated(await api("POST", base, { provider, expires_in_seconds: Number(ttl) })); await load(); }); }}>
      <${Field} label="ATS" name="cl_provider">${(id) => html`<select id=${id} value=${provider} onChange=${(e) => setProvider(e.currentTarget.value)}>
        ${providers.map((p) => html`<option value=${p}>${p}</option>`)}</select>`}</${Field}>
      <${Field} label="Valid for" name="cl_ttl">${(id) => html`<select id=${id} value=${ttl} onChange=${(e) => setTtl(e.currentTarget.value)}>
        <option value="86400">1 day</option><option value="604800">7 days</option><option value="2592000">30 days</option></select>`}</${Field}>
      <button type="submit" disabled=${act.busy}>Create link</button>
    </form>
    <${Notice} error=${act.error} />
    ${created ? html`<div class="reveal" role="region" aria-label="New connect link">
      <p>Link for ${created.provider}, valid until ${when(created.expiresAt)}. It is shown only now.</p>
      <${CopyField} label="Connect link" value=${created.url} />
    </div>` : null}
    ${links.length === 0 ? html`<p>No connect links yet.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">ATS</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Connected</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${links.map((l) => html`<tr key=${l.id}>
        <td>${l.provider}<br/><span class="mono small">${l.id}</span></td><td><${Badge} value=${l.state} /></td>
        <td>${when(l.createdAt)}</td><td>${when(l.expiresAt)}</td><td>${when(l.connectedAt)}</td>
        <td>${l.state === "active" || l.state === "connected" ? html`<button class="danger" disabled=${act.busy} aria-label=${`Revoke ${l.id}`}
          onClick=${() => confirm("Revoke this link? It stops working at once.") && act.run(async () => { await api("DELETE", `${base}/${enc(l.id)}`); await load(); })}>Revoke</button>` : null}</td>
      </tr>`)}</tbody></table></div>`}
  </section>`;
}

// ---- app -----------------------------------------------------------------------------------

function App() {
  const [signedIn, setSignedIn] = useState(!!getToken());
  const route = useRoute();
  useEffect(() => {
    const on = () => setSignedIn(false);
    addEventListener("ats-bridge:signed-out", on);
    return () => removeEventListener("ats-bridge:signed-out", on);
  }, []);
  function signOut() { sessionStorage.removeItem(TOKEN_KEY); setSignedIn(false); }
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.querySelector("#main h1")?.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">ats-bridge <span>console</span></a>
      ${signedIn ? html`<button class="secondary" onClick=${signOut}>Sign out</button>` : null}
    </header>
    ${!signedIn ? html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`
      : route.screen === "tenant" ? html`<${Tenant} id=${route.tenant} tab=${route.tab} />`
      : route.screen === "assessment" ? html`<${Assessment} tenant=${route.tenant} id=${route.id} />`
      : html`<${Tenants} />`}`;
}

render(html`<${App} />`, document.getElementById("app"));
