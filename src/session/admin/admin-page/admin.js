// The admin page: signs in with the cookie transport and drives the admin HTTP API.
// Plain browser JavaScript, no build step. Everything it shows goes through textContent,
// never innerHTML, and it has no inline handlers: the page runs under `script-src 'self'`.
'use strict';

(() => {
  const CSRF_COOKIE = '__Host-csrf';
  // Where the module mounted its routes (the server writes them into the page).
  const AUTH = document.body.dataset.authPath;
  const ADMIN = document.body.dataset.adminPath;
  const DEVICE_NAME = 'Admin page';
  const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
  const STATS = [
    ['active', 'Active sessions', 'count'],
    ['online', 'Online sessions', 'count'],
    ['onlineUsers', 'Online users', 'count'],
    ['createdLast24h', 'Created (24 h)', 'count'],
    ['revokedLast24h', 'Revoked (24 h)', 'count'],
    ['expiredLast24h', 'Expired (24 h)', 'count'],
    ['averageDurationSeconds', 'Average duration', 'duration'],
    ['peakConcurrent', 'Peak concurrent', 'count'],
    ['loginFailuresLast24h', 'Failed logins (24 h)', 'count'],
    ['reuseDetectedLast24h', 'Token reuse (24 h)', 'count'],
    ['hijackSuspectedLast24h', 'Suspected hijacks (24 h)', 'count'],
    ['newDeviceLoginsLast24h', 'New-device logins (24 h)', 'count'],
    ['throttledLast24h', 'Throttled (24 h)', 'count'],
  ];

  /** An API answer that is not a success, with the server's message. */
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
    }
  }

  /** The session is over and could not be refreshed: the user must sign in again. */
  class SignedOutError extends Error {
    constructor() {
      super('Your session has ended. Sign in again.');
      this.name = 'SignedOutError';
    }
  }

  // ---------------------------------------------------------------- HTTP

  function readCookie(name) {
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
    }
    return undefined;
  }

  function requestInit(method, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // Double-submit CSRF: the cookie-authenticated unsafe request echoes the readable cookie.
    const csrf = SAFE_METHODS.has(method) ? undefined : readCookie(CSRF_COOKIE);
    if (csrf) headers['X-CSRF-Token'] = csrf;
    return {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    };
  }

  async function errorOf(res) {
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (Array.isArray(body.message)) message = body.message.join('; ');
      else if (typeof body.message === 'string') message = body.message;
    } catch {
      // not JSON: the status text will do
    }
    return new ApiError(res.status, message);
  }

  let refreshing = null;

  /** One refresh by cookie at a time: parallel 401s share it, so the token rotates once. */
  function refreshSession() {
    refreshing ??= fetch(`${AUTH}/refresh`, requestInit('POST', {}))
      .then((res) => res.ok, () => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  /**
   * Calls the API with the session cookies. A 401 (access token expired) is answered by one
   * refresh and one retry; if that fails too, the session is over.
   */
  async function api(method, path, body, { refresh = true } = {}) {
    const res = await fetch(path, requestInit(method, body));
    if (res.status === 401 && refresh) {
      if (await refreshSession()) return api(method, path, body, { refresh: false });
      throw new SignedOutError();
    }
    if (res.status === 401 && path !== `${AUTH}/login`) throw new SignedOutError();
    if (!res.ok) throw await errorOf(res);
    return res.status === 204 ? undefined : res.json();
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      // The API refuses empty filters (400): leave them out.
      if (value !== '' && value !== undefined && value !== null) search.set(key, String(value));
    }
    const text = search.toString();
    return text ? `?${text}` : '';
  }

  // ---------------------------------------------------------------- DOM

  const $ = (id) => document.getElementById(id);

  /** Creates an element; string children become text nodes, so data is never parsed as HTML. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key === 'className') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const numberFormat = new Intl.NumberFormat();
  const pad = (n) => String(n).padStart(2, '0');

  /** Local time as `2026-01-31 14:05:09`: compact, sortable, the same in every locale. */
  function localTime(date) {
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    );
  }

  function timeEl(iso) {
    if (!iso) return el('span', { className: 'muted' }, '—');
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return el('span', {}, iso);
    return el('time', { datetime: iso, title: iso }, localTime(date));
  }

  /** Ids are long UUIDs: show their start, keep the whole in the tooltip. */
  function shortId(id) {
    const text = String(id);
    return text.length > 12 ? `${text.slice(0, 8)}…` : text;
  }

  function duration(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  function textOr(value) {
    return value === null || value === undefined || value === '' ? el('span', { className: 'muted' }, '—') : String(value);
  }

  function detailText(detail) {
    if (detail === null || detail === undefined) return '';
    return typeof detail === 'string' ? detail : JSON.stringify(detail);
  }

  function setStatus(id, message) {
    const node = $(id);
    node.textContent = message || '';
    node.hidden = !message;
  }

  let flashTimer;
  function flash(message, kind = 'ok') {
    const node = $('flash');
    node.textContent = message;
    node.className = `notice ${kind}`;
    node.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      node.hidden = true;
    }, 6000);
  }

  function emptyRow(tbody, columns, message) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: String(columns), className: 'empty' }, message)));
  }

  function pagerText(page, limit, shown, total) {
    if (total === 0 || shown === 0) return `0 of ${numberFormat.format(total)}`;
    const from = (page - 1) * limit + 1;
    return `${numberFormat.format(from)}–${numberFormat.format(from + shown - 1)} of ${numberFormat.format(total)}`;
  }

  // ---------------------------------------------------------------- state and views

  const state = {
    user: null,
    sessionId: null,
    sessions: { page: 1, limit: 20, userId: '', total: 0 },
    audit: { page: 1, limit: 20, userId: '', type: '', total: 0 },
  };

  function showView(name) {
    $('sign-in').hidden = name !== 'sign-in';
    $('not-admin').hidden = name !== 'not-admin';
    $('dashboard').hidden = name !== 'dashboard';
    $('account').hidden = name !== 'dashboard';
  }

  function showSignIn(message) {
    state.user = null;
    state.sessionId = null;
    showView('sign-in');
    setStatus('sign-in-error', message);
    $('sign-in-password').value = '';
    $($('sign-in-email').value ? 'sign-in-password' : 'sign-in-email').focus();
  }

  function showNotAdmin() {
    showView('not-admin');
    const email = state.user ? state.user.email : 'this account';
    $('not-admin-message').textContent =
      `You are signed in as ${email}, which is not an admin account. The admin page needs the "admin" role.`;
  }

  function showDashboard() {
    showView('dashboard');
    $('account-email').textContent = state.user ? state.user.email : '';
  }

  /** What any failed action does: sign-in form when signed out, a message otherwise. */
  function report(error, statusId) {
    if (error instanceof SignedOutError) return showSignIn(error.message);
    const message = error instanceof ApiError ? `${error.message} (HTTP ${error.status})` : `Request failed: ${error.message}`;
    if (statusId) setStatus(statusId, message);
    else flash(message, 'error');
  }

  // ---------------------------------------------------------------- sessions

  function userButton(userId, onPick) {
    const button = el(
      'button',
      { type: 'button', className: 'link', title: `${userId}: show only this user`, 'aria-label': `Show only user ${userId}` },
      shortId(userId),
    );
    button.addEventListener('click', () => onPick(userId));
    return button;
  }

  /** Opens a user's whole audit trail (every event type) and scrolls to it. */
  function trailButton(userId) {
    const button = el(
      'button',
      { type: 'button', className: 'link trail', title: `Every event of ${userId}`, 'aria-label': `Show the trail of user ${userId}` },
      'trail',
    );
    button.addEventListener('click', () => {
      $('audit-type').value = '';
      state.audit.type = '';
      filterAuditByUser(userId);
      $('audit').scrollIntoView({ block: 'start' });
    });
    return button;
  }

  function revokeButton(session) {
    const label = session.deviceName || session.deviceType || session.id;
    const button = el('button', { type: 'button', className: 'danger small', 'aria-label': `Revoke session ${label}` }, 'Revoke');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('DELETE', `${ADMIN}/sessions/${encodeURIComponent(session.id)}`);
        flash(session.id === state.sessionId ? 'Revoked your own session.' : 'Session revoked.');
        await refreshAll();
      } catch (error) {
        button.disabled = false;
        report(error);
      }
    });
    return button;
  }

  function sessionRow(s) {
    const own = s.id === state.sessionId;
    return el(
      'tr',
      { dataset: { sessionId: s.id, userId: s.userId }, className: own ? 'own' : '' },
      el(
        'td',
        {},
        userButton(s.userId, filterSessionsByUser),
        trailButton(s.userId),
        s.online ? el('span', { className: 'badge online', title: 'A socket of this session is connected' }, 'online') : null,
      ),
      el('td', {}, textOr(s.deviceName), own ? el('span', { className: 'badge' }, 'this page') : null),
      el('td', {}, textOr(s.deviceType)),
      el('td', { className: 'ua', title: s.userAgent || '' }, textOr(s.userAgent)),
      el('td', { className: 'mono' }, textOr(s.ipAddress)),
      el('td', {}, timeEl(s.createdAt)),
      el('td', {}, timeEl(s.lastActivityAt)),
      el('td', {}, timeEl(s.expiresAt)),
      el('td', { className: 'actions' }, revokeButton(s)),
    );
  }

  function renderSessions(data) {
    const tbody = $('sessions-table').tBodies[0];
    const { page, limit } = state.sessions;
    state.sessions.total = data.total;
    if (data.items.length === 0) emptyRow(tbody, 9, 'No live sessions.');
    else tbody.replaceChildren(...data.items.map(sessionRow));
    $('sessions-range').textContent = pagerText(page, limit, data.items.length, data.total);
    $('sessions-prev').disabled = page <= 1;
    $('sessions-next').disabled = page * limit >= data.total;
    $('revoke-user').hidden = !state.sessions.userId;
  }

  /**
   * Loads the sessions table. Resolves to what happened, since the admin API's answer here
   * decides what the page shows: 'shown', 'not-admin' (403), 'signed-out' or 'failed'.
   */
  async function loadSessions() {
    const { page, limit, userId } = state.sessions;
    try {
      const data = await api('GET', `${ADMIN}/sessions${query({ userId, page, limit })}`);
      setStatus('sessions-status', '');
      renderSessions(data);
      return 'shown';
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) return 'not-admin';
      report(error, 'sessions-status');
      return error instanceof SignedOutError ? 'signed-out' : 'failed';
    }
  }

  function filterSessionsByUser(userId) {
    $('sessions-user').value = userId;
    state.sessions.userId = userId;
    state.sessions.page = 1;
    void loadSessions();
  }

  async function revokeUser() {
    const userId = state.sessions.userId;
    if (!userId || !window.confirm(`Revoke every session of user ${userId}?`)) return;
    try {
      const { revoked } = await api('DELETE', `${ADMIN}/users/${encodeURIComponent(userId)}/sessions`);
      flash(`Revoked ${revoked} session${revoked === 1 ? '' : 's'} of user ${userId}.`);
      await refreshAll();
    } catch (error) {
      report(error);
    }
  }

  // ---------------------------------------------------------------- stats

  async function loadStats() {
    const list = $('stats-list');
    try {
      const stats = await api('GET', `${ADMIN}/sessions/stats`);
      list.replaceChildren(
        ...STATS.map(([key, label, kind]) =>
          el(
            'div',
            { className: 'stat', dataset: { stat: key } },
            el('dt', {}, label),
            el('dd', {}, kind === 'duration' ? duration(stats[key]) : typeof stats[key] === 'number' ? numberFormat.format(stats[key]) : '—'),
          ),
        ),
      );
      setStatus('stats-status', '');
    } catch (error) {
      list.replaceChildren();
      if (error instanceof ApiError && error.status === 404) setStatus('stats-status', 'Statistics are not available on this server.');
      else report(error, 'stats-status');
    }
  }

  // ---------------------------------------------------------------- audit

  function auditRow(event) {
    return el(
      'tr',
      { dataset: { type: event.type, userId: event.userId || '' } },
      el('td', {}, timeEl(event.at)),
      el('td', {}, el('span', { className: `event event-${String(event.type).replace(/[^a-z_]/g, '')}` }, event.type)),
      el('td', {}, event.userId ? userButton(event.userId, filterAuditByUser) : textOr(null)),
      el('td', { className: 'mono', title: event.sessionId || '' }, textOr(event.sessionId ? shortId(event.sessionId) : null)),
      el('td', { className: 'mono' }, textOr(event.ipAddress)),
      el('td', { className: 'ua', title: event.userAgent || '' }, textOr(event.userAgent)),
      el('td', { className: 'detail' }, detailText(event.detail)),
      el('td', { className: 'mono', title: event.actorId || '' }, textOr(event.actorId ? shortId(event.actorId) : null)),
    );
  }

  async function loadAudit() {
    const { page, limit, userId, type } = state.audit;
    const tbody = $('audit-table').tBodies[0];
    try {
      const data = await api('GET', `${ADMIN}/audit${query({ type, userId, page, limit })}`);
      setStatus('audit-status', '');
      $('audit-table').hidden = false;
      $('audit-pager').hidden = false;
      state.audit.total = data.total;
      if (data.items.length === 0) emptyRow(tbody, 7, 'No events.');
      else tbody.replaceChildren(...data.items.map(auditRow));
      $('audit-range').textContent = pagerText(page, limit, data.items.length, data.total);
      $('audit-prev').disabled = page <= 1;
      $('audit-next').disabled = page * limit >= data.total;
    } catch (error) {
      tbody.replaceChildren();
      $('audit-range').textContent = '';
      $('audit-prev').disabled = true;
      $('audit-next').disabled = true;
      if (error instanceof ApiError && error.status === 404) {
        $('audit-table').hidden = true;
        $('audit-pager').hidden = true;
        setStatus('audit-status', 'The audit trail is not available on this server.');
      } else {
        report(error, 'audit-status');
      }
    }
  }

  function filterAuditByUser(userId) {
    $('audit-user').value = userId;
    state.audit.userId = userId;
    state.audit.page = 1;
    void loadAudit();
  }

  // ---------------------------------------------------------------- sign-in, dashboard, sign-out

  /** Opens the dashboard, or the not-an-admin notice when the admin API answers 403. */
  async function openDashboard() {
    const sessions = await loadSessions();
    if (sessions === 'not-admin') return showNotAdmin();
    if (sessions === 'signed-out') return;
    showDashboard();
    await Promise.all([loadStats(), loadAudit()]);
  }

  /** Reloads every section: after a change, or when asked to. */
  async function refreshAll() {
    const sessions = await loadSessions();
    if (sessions === 'not-admin') return showNotAdmin();
    if (sessions === 'signed-out') return;
    await Promise.all([loadStats(), loadAudit()]);
  }

  async function signIn(event) {
    event.preventDefault();
    const email = $('sign-in-email').value.trim();
    const password = $('sign-in-password').value;
    if (!email || !password) return setStatus('sign-in-error', 'Enter your email and password.');
    const submit = $('sign-in-submit');
    submit.disabled = true;
    setStatus('sign-in-error', '');
    try {
      const answer = await api('POST', `${AUTH}/login`, { email, password, deviceName: DEVICE_NAME }, { refresh: false });
      state.user = answer.user;
      state.sessionId = answer.sessionId;
      $('sign-in-password').value = '';
      await openDashboard();
    } catch (error) {
      const message =
        error instanceof ApiError && error.status === 401
          ? 'Wrong email or password.'
          : error instanceof ApiError
            ? error.message
            : `Sign-in failed: ${error.message}`;
      setStatus('sign-in-error', message);
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    let outcome = 'Signed out.';
    try {
      await api('POST', `${AUTH}/logout`);
    } catch (error) {
      // Signed out already, or the server is unreachable: either way the form comes next.
      if (!(error instanceof SignedOutError)) outcome = `Sign-out failed: ${error.message}`;
    }
    showSignIn('');
    flash(outcome, outcome === 'Signed out.' ? 'ok' : 'error');
  }

  /** Resumes a session a previous visit left in the cookies; the sign-in form otherwise. */
  async function resume() {
    // Without the CSRF cookie there is no session to resume: skip the request (and its 401).
    if (!readCookie(CSRF_COOKIE)) return showSignIn('');
    try {
      const me = await api('GET', `${AUTH}/me`);
      state.user = me.user;
      state.sessionId = me.session.id;
      await openDashboard();
    } catch (error) {
      if (error instanceof SignedOutError) showSignIn('');
      else report(error);
    }
  }

  function wire() {
    $('sign-in-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('not-admin-sign-out').addEventListener('click', signOut);
    $('reload').addEventListener('click', () => void refreshAll());
    $('revoke-user').addEventListener('click', () => void revokeUser());

    $('sessions-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      state.sessions.userId = $('sessions-user').value.trim();
      state.sessions.limit = Number($('sessions-limit').value);
      state.sessions.page = 1;
      void loadSessions();
    });
    $('sessions-clear').addEventListener('click', () => filterSessionsByUser(''));
    $('sessions-prev').addEventListener('click', () => {
      state.sessions.page = Math.max(1, state.sessions.page - 1);
      void loadSessions();
    });
    $('sessions-next').addEventListener('click', () => {
      state.sessions.page += 1;
      void loadSessions();
    });

    const types = $('audit-type');
    // The server writes its list of event types into the page (SESSION_EVENT_TYPES).
    for (const type of types.dataset.eventTypes.split(',')) types.append(el('option', { value: type }, type));
    $('audit-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      state.audit.type = types.value;
      state.audit.userId = $('audit-user').value.trim();
      state.audit.page = 1;
      void loadAudit();
    });
    $('audit-clear').addEventListener('click', () => {
      types.value = '';
      state.audit.type = '';
      filterAuditByUser('');
    });
    $('audit-prev').addEventListener('click', () => {
      state.audit.page = Math.max(1, state.audit.page - 1);
      void loadAudit();
    });
    $('audit-next').addEventListener('click', () => {
      state.audit.page += 1;
      void loadAudit();
    });
  }

  wire();
  void resume();
})();
