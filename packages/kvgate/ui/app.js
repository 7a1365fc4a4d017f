// The web view of a kvstore cluster (docs/web-ui.md): polls the gate's cached
// view once a second and draws it. Plain browser JavaScript, no build step.
// Everything from the cluster is shown with textContent, never parsed as HTML.
'use strict';

(() => {
  const POLL_MS = 1000;
  const SLOT_COUNT = 4096;
  const PALETTE = ['#3b6fd6', '#9b59b6', '#17a2b8', '#e67e22', '#8e6c4a', '#d63b8f', '#5c7c1f', '#34495e'];
  const HEALTH_COLOURS = { ok: '#2e9e4f', degraded: '#e0a100', down: '#d33a2c' };
  const present = (nodes) => nodes.filter((node) => node !== null && node !== undefined);

  const $ = (id) => document.getElementById(id);
  let lastView = null;
  let markedSlot = null;

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (name === 'class') node.className = value;
      // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
      else if (name === 'style') Object.assign(node.style, value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function facts(pairs) {
    return el('dl', { class: 'facts' }, pairs.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
  }

  /** How long before `now` (the gate's clock, not this browser's) `ms` was. */
  function ago(ms, now) {
    if (ms === null || ms === undefined) return 'not since this gate started';
    const seconds = Math.max(0, Math.round((now - ms) / 1000));
    const when = new Date(ms).toLocaleTimeString();
    if (seconds < 120) return `${seconds} s ago (${when})`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min ago (${when})`;
    return new Date(ms).toLocaleString();
  }

  const number = (value, digits = 0) => (value === null || value === undefined ? '–' : value.toLocaleString(undefined, { maximumFractionDigits: digits }));

  function sparkline(history) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 60 20');
    svg.setAttribute('preserveAspectRatio', 'none');
    const top = Math.max(1, ...history.map((point) => point.opsPerSecond));
    const points = history.map((point, index) => `${60 - (history.length - 1 - index)},${(20 - (point.opsPerSecond / top) * 18 - 1).toFixed(2)}`);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(line);
    const title = document.createElementNS(ns, 'title');
    title.textContent = `ops/s over the last ${history.length} s (max ${number(top, 1)})`;
    svg.append(title);
    return svg;
  }

  /**
   * The outer band is the slot table itself, each slot in its partition's
   * colour; the inner arcs are the partitions, sized by their slots and
   * coloured by health.
   */
  function drawRing(view) {
    const canvas = $('ring');
    const context = canvas.getContext('2d');
    const size = canvas.width;
    const centre = size / 2;
    const angle = (slot) => (slot / SLOT_COUNT) * 2 * Math.PI - Math.PI / 2;
    context.clearRect(0, 0, size, size);
    context.textAlign = 'center';
    context.textBaseline = 'middle';
    const runs = view.ring.runs;
    if (runs.length === 0) {
      context.fillStyle = '#6b7483';
      context.fillText('no ring yet', centre, centre);
      return;
    }
    context.lineWidth = 22;
    runs.forEach(([start, index], position) => {
      const end = position + 1 < runs.length ? runs[position + 1][0] : SLOT_COUNT;
      context.beginPath();
      context.strokeStyle = PALETTE[index % PALETTE.length];
      context.arc(centre, centre, centre - 14, angle(start), angle(end));
      context.stroke();
    });
    const health = new Map(view.partitions.map((partition) => [partition.name, partition]));
    let from = 0;
    context.font = '600 12px system-ui, sans-serif';
    for (const name of view.ring.partitions) {
      const slots = health.get(name)?.slots ?? 0;
      if (slots === 0) continue;
      const gap = Math.min(8, slots / 4);
      context.beginPath();
      context.lineWidth = 26;
      context.strokeStyle = HEALTH_COLOURS[health.get(name)?.health] || '#6b7483';
      context.arc(centre, centre, centre - 48, angle(from + gap), angle(from + slots - gap));
      context.stroke();
      const middle = angle(from + slots / 2);
      context.fillStyle = '#fff';
      context.fillText(name, centre + Math.cos(middle) * (centre - 48), centre + Math.sin(middle) * (centre - 48));
      from += slots;
    }
    context.fillStyle = '#1d2430';
    context.font = '600 15px system-ui, sans-serif';
    context.fillText(`${view.ring.partitions.length} partitions`, centre, centre - 8);
    context.font = '12px system-ui, sans-serif';
    context.fillStyle = '#6b7483';
    context.fillText(`${SLOT_COUNT} slots`, centre, centre + 10);
    if (markedSlot !== null) {
      const at = angle(markedSlot + 0.5);
      context.strokeStyle = '#1d2430';
      context.lineWidth = 3;
      context.beginPath();
      context.moveTo(centre + Math.cos(at) * (centre - 30), centre + Math.sin(at) * (centre - 30));
      context.lineTo(centre + Math.cos(at) * (centre - 1), centre + Math.sin(at) * (centre - 1));
      context.stroke();
    }
  }

  function legend(view) {
    const slots = new Map(view.partitions.map((partition) => [partition.name, partition.slots]));
    $('legend').replaceChildren(
      ...view.ring.partitions.map((name, index) =>
        el('li', {}, el('span', { class: 'swatch', style: { background: PALETTE[index % PALETTE.length] } }), `${name} (${number(slots.get(name))} slots)`),
      ),
    );
  }

  function memberRows(partition) {
    return partition.members.map((member) =>
      el(
        'tr',
        { 'data-member': member.id, 'data-role': member.role },
        el('td', {}, member.id),
        el('td', {}, member.role),
        el('td', { class: member.inSync ? '' : 'no' }, member.inSync ? 'in sync' : 'out of sync'),
        el('td', {}, number(member.lastSeq)),
        el('td', {}, number(member.lag)),
      ),
    );
  }

  function partitionCard(partition, now) {
    return el(
      'article',
      { class: 'card', 'data-partition': partition.name, 'data-health': partition.health, 'data-leader': partition.leader || '' },
      el('div', { class: 'card-head' }, el('h3', {}, partition.name), el('span', { class: `badge ${partition.health}` }, partition.health)),
      partition.issues.length > 0 ? el('div', { class: 'issues' }, partition.issues.join('; ')) : null,
      facts([
        ['leader', el('span', { class: 'leader' }, partition.leader || 'none')],
        ['epoch', number(partition.epoch)],
        ['leader changed', ago(partition.leaderChangedAt, now)],
        ['slots', number(partition.slots)],
      ]),
      el(
        'div',
        { class: 'traffic' },
        el('span', {}, `${number(partition.opsPerSecond, 1)} ops/s`),
        el('span', {}, `p99 ${partition.p99Ms === null ? '–' : `${number(partition.p99Ms, 2)} ms`}`),
        sparkline(partition.history),
      ),
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, ['replica', 'role', 'in-sync set', 'last seq', 'lag'].map((name) => el('th', {}, name)))),
        el('tbody', {}, memberRows(partition)),
      ),
    );
  }

  function migration(view) {
    const box = $('migration');
    const current = view.migration;
    box.hidden = !current;
    if (!current) return box.replaceChildren();
    const share = current.slotsTotal > 0 ? current.slotsMoved / current.slotsTotal : 1;
    box.replaceChildren(
      ...present([
        el('h2', {}, `Migration ${current.id}: ${current.kind}${current.partition ? ` ${current.partition}` : ''} (${current.state})`),
        el('div', { class: 'progress', title: `${Math.round(share * 100)} %` }, el('div', { style: { width: `${(share * 100).toFixed(1)}%` } })),
        facts([
          ['slots', `${number(current.slotsMoved)} of ${number(current.slotsTotal)}`],
          ['keys moved', `${number(current.keysMoved)} (${number(current.bytesMoved)} bytes)`],
          ['rate', `${number(current.keysPerSecond, 1)} keys/s`],
          ['ETA', current.etaSeconds === null ? '–' : `${number(current.etaSeconds)} s`],
          ['write pauses', `mean ${number(current.pauseMsMean, 1)} ms, worst ${number(current.pauseMsMax, 1)} ms`],
        ]),
        current.blocked.length > 0 ? el('div', { class: 'issues' }, current.blocked.map((block) => `${block.partition}: ${block.reason}`).join('; ')) : null,
      ]),
    );
  }

  function render(view) {
    lastView = view;
    $('cluster').textContent = view.cluster;
    $('ring-version').textContent = `version ${view.ring.version}${view.ring.sealed ? ', sealed' : ''}`;
    drawRing(view);
    legend(view);
    migration(view);
    $('partitions').replaceChildren(...view.partitions.map((partition) => partitionCard(partition, view.builtAt)));
    $('problems').replaceChildren(...view.problems.map((problem) => el('li', {}, `malformed record at ${problem.path}: ${problem.error}`)));
  }

  /** The gate's refusal in one line: its API error's message, or the status. */
  async function refusal(response) {
    const body = await response.json().catch(() => null);
    return body && body.error ? body.error.message : `HTTP ${response.status}`;
  }

  /** Polls while this generation is current: signing in or out starts another, which ends the one before. */
  let generation = 0;

  async function poll(current) {
    if (current !== generation) return;
    const status = $('status');
    try {
      const response = await fetch('/v1/ui/view', { cache: 'no-store' });
      if (response.status === 401 || response.status === 403) return signedOut(`signed out: ${await refusal(response)}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('stale');
    } catch (error) {
      status.textContent = `cannot reach the gate (${error.message}); retrying`;
      status.classList.add('stale');
    }
    setTimeout(() => void poll(current), POLL_MS);
  }

  // With --auth on (docs/web-ui.md, "Signing in"): the gate keeps the token in an HttpOnly cookie for the page's reads.
  function signedIn(session) {
    $('sign-in').hidden = true;
    $('view').hidden = false;
    $('session').hidden = !session.auth;
    $('user').textContent = session.user ? `signed in as ${session.user}` : '';
    // The cookie opens only the page's own routes: these would want a bearer token.
    for (const link of document.querySelectorAll('[data-needs-token]')) link.hidden = session.auth;
    void poll(++generation);
  }

  /** Asks for a token; `message` says why (a token refused, a user without the admin role, a session that ended). */
  function signedOut(message) {
    generation++;
    $('view').hidden = true;
    $('session').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-message').textContent = message;
    $('status').textContent = 'signed out';
    $('token-input').focus();
  }

  async function refusedSignIn(response) {
    const message = await refusal(response);
    if (response.status === 403) return `${message}: the web view is for admins; sign in with an admin's token`;
    if (response.status === 401) return `token refused: ${message}`;
    return message;
  }

  async function signIn(event) {
    event.preventDefault();
    const token = $('token-input').value.trim();
    try {
      const response = await fetch('/v1/ui/session', { method: 'POST', headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (!response.ok) return signedOut(await refusedSignIn(response));
      $('token-input').value = '';
      signedIn(await response.json());
    } catch (error) {
      signedOut(`cannot reach the gate (${error.message})`);
    }
  }

  async function signOut() {
    try {
      await fetch('/v1/ui/session', { method: 'DELETE' });
      signedOut('signed out');
    } catch (error) {
      $('status').textContent = `cannot reach the gate (${error.message}): not signed out`;
    }
  }

  /** Who is signed in (a 401 or 403: nobody who may see the view), then the view. */
  async function start() {
    try {
      const response = await fetch('/v1/ui/session', { cache: 'no-store' });
      if (response.status === 401) return signedOut('');
      if (response.status === 403) return signedOut(await refusedSignIn(response));
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      signedIn(await response.json());
    } catch (error) {
      $('status').textContent = `cannot reach the gate (${error.message}); retrying`;
      setTimeout(() => void start(), POLL_MS);
    }
  }

  function keyResult(lookup) {
    const read = lookup.read;
    const value = read.value;
    return [
      facts([
        ['slot', number(lookup.slot)],
        ['partition', el('span', { class: 'key-partition' }, lookup.partition || 'none')],
        ['leader', lookup.leader || 'none'],
        ['replicas', lookup.replicas.join(', ') || 'none'],
        ['read', `${lookup.consistency}, HTTP ${read.status}${read.replica ? ` from ${read.replica}` : ''}`],
        ['version', el('span', { class: 'key-version' }, number(read.version))],
        ['value', value ? `${number(value.bytes)} bytes${value.encoding === 'base64' ? ', not UTF-8: base64' : ''}${value.truncated ? ', first part' : ''}` : '–'],
      ]),
      value ? el('pre', { class: 'key-value' }, value.preview) : null,
      read.error ? el('div', { class: 'issues' }, `${read.error.code}: ${read.error.message}`) : null,
    ];
  }

  async function lookUp(event) {
    event.preventDefault();
    const key = $('key-input').value;
    const consistency = $('key-consistency').value;
    const result = $('key-result');
    result.replaceChildren('looking up…');
    try {
      const response = await fetch(`/v1/ui/key?key=${encodeURIComponent(key)}&consistency=${consistency}`, { cache: 'no-store' });
      const body = await response.json();
      if (!response.ok) {
        result.replaceChildren(el('div', { class: 'issues' }, body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`));
        return;
      }
      markedSlot = body.slot;
      if (lastView) drawRing(lastView);
      result.replaceChildren(...present(keyResult(body)));
    } catch (error) {
      result.replaceChildren(el('div', { class: 'issues' }, `cannot reach the gate (${error.message})`));
    }
  }

  $('key-form').addEventListener('submit', (event) => void lookUp(event));
  $('sign-in').addEventListener('submit', (event) => void signIn(event));
  $('sign-out').addEventListener('click', () => void signOut());
  void start();
})();
