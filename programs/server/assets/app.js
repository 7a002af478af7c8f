/* log4scan dashboard.
 *
 * Everything in a report is attacker-controlled, so this file never turns
 * data into HTML: every element is made with createElement and every value
 * becomes a text node (escape by construction); links are built from
 * encodeURIComponent'd parts and always point inside this page ("#/...") or
 * at the CSV export of the same API.  There is no innerHTML, no eval, no
 * inline script (the server's Content-Security-Policy forbids it anyway).
 *
 * Routes (location.hash): #/ overview, #/devices?filters, #/device/ID,
 * #/files?filters, #/versions, #/processes?filters, #/attempts?filters,
 * #/images?filters (container images and the layers that brought Log4j).
 * Every number on the overview is a link to the rows it counts. */
'use strict';

(function () {
  var state = { user: null, csrf: null };
  var main = document.getElementById('main');

  /* h('tag', {attrs}, children...) - strings become text nodes */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') el.addEventListener(k.slice(2), v);
        else if (k === 'href') el.setAttribute('href', safeHref(v));
        else el.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  /* add(el, child, child...) - arrays are flattened, strings become text */
  function add(el) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { add(el, x); });
      else if (typeof c === 'object' && c.nodeType) el.appendChild(c);
      else el.appendChild(document.createTextNode(String(c)));
    }
  }
  function safeHref(v) {
    v = String(v);
    return (v.charAt(0) === '#' || v.indexOf('/api/v1/') === 0) ? v : '#/';
  }
  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === null || v === undefined || v === '' || v === false) return;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v === true ? '1' : String(v)));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }
  function link(route, params, text, cls) {
    return h('a', { href: '#/' + route + qs(params || {}), class: cls || null }, text);
  }
  function num(n) { return Number(n || 0).toLocaleString('en-US'); }
  /* a time (seconds since the epoch) as an ISO-like local date,
   * 2026-12-05 17:03; whenEl: the same in a <time> whose title is UTC */
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function when(t) {
    if (!t) return '-';
    var d = new Date(t * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' +
      pad(d.getMinutes());
  }
  function whenEl(t) {
    if (!t) return '-';
    var iso = new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    return h('time', { datetime: iso, title: iso.replace('T', ' ').replace('Z', ' UTC') }, when(t));
  }
  /* a path on one line, its end (the file name) always visible: clipped
   * with an ellipsis at its start (CSS), the whole path in the title */
  function pathText(p) {
    p = String(p || '');
    return h('span', { class: 'clip', title: p }, h('span', { class: 'clip-in' }, p));
  }
  function tag(text, cls) { return h('span', { class: 'tag ' + (cls || '') }, text); }
  function setMain() {
    while (main.firstChild) main.removeChild(main.firstChild);
    for (var i = 0; i < arguments.length; i++) add(main, arguments[i]);
  }

  function api(path) {
    return fetch('/api/v1/' + path, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.status === 401) { state.user = null; showLogin(); throw new Error('login required'); }
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error || r.statusText); });
        return r.json();
      });
  }
  function post(path, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (state.csrf) headers['X-CSRF-Token'] = state.csrf;
    return fetch('/api/v1/' + path, { method: 'POST', credentials: 'same-origin', headers: headers,
      body: JSON.stringify(body || {}) });
  }

  /* ---------------------------------------------------------------- login */
  function showLogin(message) {
    document.getElementById('nav').textContent = '';
    document.getElementById('who').textContent = '';
    var user = h('input', { name: 'user', id: 'login-user', autocomplete: 'username', required: true });
    var pass = h('input', { name: 'password', id: 'login-password', type: 'password',
      autocomplete: 'current-password', required: true });
    var err = h('p', { class: 'error', id: 'login-error' }, message || '');
    var form = h('form', { class: 'login', id: 'login-form', onsubmit: function (ev) {
      ev.preventDefault();
      post('login', { user: user.value, password: pass.value }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { err.textContent = j.error || 'login failed'; return; }
          state.user = j.user; state.csrf = j.csrf; state.role = j.role; chrome(); route();
        });
      }).catch(function (e) { err.textContent = String(e.message || e); });
    } },
    h('h1', null, 'log4scan fleet'),
    h('label', { for: 'login-user' }, 'User'), user,
    h('label', { for: 'login-password' }, 'Password'), pass,
    h('button', { type: 'submit', id: 'login-submit' }, 'Log in'), err);
    setMain(form);
    user.focus();
  }

  /* views in files of their own (view_*.js, loaded after this one) register
   * a route and a nav entry (admin: shown to admins only), and controls for
   * the device page; they use these helpers */
  var views = [], deviceHooks = [];
  function mayShow(v) { return !v.admin || state.role === 'admin'; }
  window.l4s = { register: function (v) { views.push(v); }, onDevice: function (fn) { deviceHooks.push(fn); },
    h: h, add: add, link: link, when: when, whenEl: whenEl, pathText: pathText, num: num, tag: tag, api: api, post: post, listView: listView, setMain: setMain,
    fail: fail, table: table, state: state, route: function () { route(); } };

  function chrome() {
    var nav = document.getElementById('nav');
    nav.textContent = '';
    [['', 'Overview'], ['devices', 'Devices'], ['files', 'Files'], ['versions', 'Software'],
     ['images', 'Images'], ['processes', 'Processes'], ['attempts', 'Attempts']].forEach(function (x) {
      add(nav, h('a', { href: '#/' + x[0], 'data-route': x[0] }, x[1]));
    });
    views.forEach(function (v) { if (mayShow(v)) add(nav, h('a', { href: '#/' + v.route, 'data-route': v.route }, v.label)); });
    var who = document.getElementById('who');
    who.textContent = '';
    add(who, h('span', null, state.user || ''));
    add(who, h('button', { id: 'logout', onclick: function () {
      post('logout').then(function () { state.user = null; state.csrf = null; showLogin(); });
    } }, 'Log out'));
  }

  /* ---------------------------------------------------------------- tables */
  /* table(cols, rows, empty, sort) - a column: { t: title, v(row): cell,
   * n: a number (right-aligned), path/clip: a path cell }.
   *
   * sort given ({ by, order, href(col, order) }): the rows are a page of a
   * server-sorted list; a column with s: NAME (the API's sort= column) gets
   * a header link that sorts by it, and a second click reverses it; counts
   * start descending, text ascending.
   *
   * sort absent: every row is in the page (the device page's tables and the
   * overview's: at most 500), so clientTable sorts and pages them here. */
  function table(cols, rows, empty, sort) {
    if (!sort) return clientTable(cols, rows, empty);
    var head = h('tr', null, cols.map(function (c) {
      if (!c.s) return h('th', { class: c.n ? 'n' : null }, c.t);
      var dflt = c.first || (c.n ? 'desc' : 'asc');
      var on = sort.by === c.s, cur = on ? (sort.order || dflt) : null;
      var next = on ? (cur === 'asc' ? 'desc' : 'asc') : dflt;
      return h('th', { class: (c.n ? 'n ' : '') + 'sortable', 'aria-sort': on ? (cur === 'asc' ? 'ascending' : 'descending') : null,
        'data-sort': c.s },
        h('a', { href: sort.href(c.s, next), class: 'sort-link', title: 'sort by ' + c.t + (next === 'asc' ? ' (ascending)' : ' (descending)') },
          c.t, on ? (cur === 'asc' ? ' \u25b2' : ' \u25bc') : ''));
    }));
    var body = rows.length ? rows.map(function (r) { return tableRow(cols, r); }) : [emptyRow(cols, empty)];
    return h('table', null, h('thead', null, head), h('tbody', null, body));
  }
  function tableRow(cols, r) {
    return h('tr', null, cols.map(function (c) {
      return h('td', { class: c.n ? 'n' : (c.path ? 'path' : (c.clip ? 'path clipped' : null)) }, c.v(r));
    }));
  }
  function emptyRow(cols, empty) {
    return h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, empty || 'Nothing here.'));
  }

  /* client-side sorting: a column's key is c.k(row) when it has one (the
   * raw value: a count, a time in seconds, a severity's rank, text), else
   * its cell's text (a number for an n column).  Numbers compare as
   * numbers, text case-insensitively; rows without a value go last either
   * way; equal keys keep the server's order.  Numbers and times start
   * descending (c.first overrides), text ascending. */
  var SEV_RANK = { critical: 4, high: 3, medium: 2, low: 1, none: 0 };
  function sevRank(s) { var r = SEV_RANK[String(s || '').toLowerCase()]; return r === undefined ? -1 : r; }
  /* a version as text whose numbers compare as numbers (2.9 before 2.14) */
  function verKey(v) {
    return v ? String(v).toLowerCase().replace(/\d+/g, function (d) { return ('0000000000' + d).slice(-10); }) : '';
  }
  function timeKey(t) { var ms = t ? Date.parse(t) : NaN; return isNaN(ms) ? null : ms / 1000; }
  function cellKey(c, r, td) {
    var k = c.k ? c.k(r) : td.textContent;
    if (!c.k && c.n) { k = parseFloat(String(k).replace(/[^0-9.\-]/g, '')); if (isNaN(k)) k = null; }
    if (k === undefined || k === '' || (typeof k === 'number' && isNaN(k))) k = null;
    return typeof k === 'string' ? k.toLowerCase() : k;
  }
  function cmpKeys(a, b) {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;   /* numbers before text in a mixed column */
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  var PAGE_ROWS = 50;
  function clientTable(cols, rows, empty) {
    if (!rows.length) return h('table', null, h('thead', null, h('tr', null, cols.map(function (c) {
      return h('th', { class: c.n ? 'n' : null }, c.t);
    }))), h('tbody', null, emptyRow(cols, empty)));
    var items = rows.map(function (r, i) {
      var tr = tableRow(cols, r);
      return { tr: tr, i: i, keys: cols.map(function (c, j) { return cellKey(c, r, tr.children[j]); }) };
    });
    var st = { col: -1, dir: 1, page: 0, all: false };
    var paged = items.length > PAGE_ROWS;
    var tbody = h('tbody');
    var ths = cols.map(function (c, j) {
      var btn = h('button', { type: 'button', class: 'sort-button', onclick: function () {
        var dflt = (c.first || (c.n || c.date ? 'desc' : 'asc')) === 'asc' ? 1 : -1;
        st.dir = st.col === j ? -st.dir : dflt;
        st.col = j;
        st.page = 0;
        sortRows();
        draw();
        btn.focus();
      } }, c.t, h('span', { class: 'arrow', 'aria-hidden': 'true' }));
      return h('th', { class: (c.n ? 'n ' : '') + 'csort', 'data-col': j }, btn);
    });
    var pager = paged ? h('div', { class: 'pager tpager' }) : null;
    function sortRows() {
      var j = st.col, d = st.dir;
      items.sort(function (x, y) {
        var a = x.keys[j], b = y.keys[j];
        if (a === null || b === null) return a === b ? x.i - y.i : (a === null ? 1 : -1);
        return d * cmpKeys(a, b) || x.i - y.i;
      });
    }
    function pageButton(cls, text, fn) {
      return h('button', { type: 'button', class: 'link-button ' + cls, onclick: function () { fn(); draw(); } }, text);
    }
    function draw() {
      ths.forEach(function (th, j) {
        var on = st.col === j, arrow = th.querySelector('.arrow');
        if (on) th.setAttribute('aria-sort', st.dir > 0 ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
        arrow.textContent = on ? (st.dir > 0 ? ' \u25b2' : ' \u25bc') : '';
        th.querySelector('button').setAttribute('title', 'sort by ' + cols[j].t +
          (on ? (st.dir > 0 ? ' (now ascending: click for descending)' : ' (now descending: click for ascending)') : ''));
      });
      var pages = Math.ceil(items.length / PAGE_ROWS);
      var from = paged && !st.all ? st.page * PAGE_ROWS : 0;
      var to = paged && !st.all ? Math.min(items.length, from + PAGE_ROWS) : items.length;
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      for (var i = from; i < to; i++) tbody.appendChild(items[i].tr);
      if (!paged) return;
      pager.textContent = '';
      if (!st.all && st.page > 0) add(pager, pageButton('tpager-prev', '\u2190 previous', function () { st.page--; }));
      add(pager, h('span', { class: 'muted tpager-state' }, 'rows ' + num(from + 1) + '\u2013' + num(to) + ' of ' + num(items.length) +
        (st.all ? '' : ', page ' + (st.page + 1) + ' of ' + pages)));
      if (!st.all && st.page < pages - 1) add(pager, pageButton('tpager-next', 'next \u2192', function () { st.page++; }));
      add(pager, st.all ? pageButton('tpager-all', PAGE_ROWS + ' a page', function () { st.all = false; st.page = 0; })
        : pageButton('tpager-all', 'Show all ' + num(items.length), function () { st.all = true; }));
    }
    draw();
    var tbl = h('table', { class: 'client-sorted' }, h('thead', null, h('tr', null, ths)), tbody);
    return paged ? h('div', { class: 'table-paged' }, tbl, pager) : tbl;
  }
  function statusTag(s) { return tag(s, s); }
  /* severity badge: a class only for the ratings the rules use (the text is
   * the report's, shown as text) */
  var SEVERITIES = ['critical', 'high', 'medium', 'low', 'none'];
  function sevTag(s) {
    if (!s) return tag('unrated', 'sev-none');
    return tag(s, 'sev-' + (SEVERITIES.indexOf(s) >= 0 ? s : 'unknown'));
  }
  var LOOPBACK = /^(::ffff:)?127\.|^(0*:)*:0*1$|^localhost$/i;
  function isLoopback(addr) { return LOOPBACK.test(addr || ''); }
  /* a file's status with what changes its meaning: the running JVMs that
   * have it loaded, and a copy a later image layer deleted */
  function fileStatus(f) {
    var out = [statusTag(f.status)];
    if (f.in_final_image === 0) out.push(tag('deleted in a later layer', 'removed'));
    (f.loaded_by || []).forEach(function (l) {
      out.push(tag('loaded by pid ' + l.pid + (l.status !== f.status ? ' (' + l.status + ')' : ''), 'loaded'));
    });
    if (f.restart_required) out.push(tag('restart required', 'restart'));
    if (f.shadowed) out.push(tag('running copy of a listed file', 'loaded'));
    return out;
  }
  /* the evidence, collapsed: a summary line, the items when opened */
  function evidence(list, pid) {
    list = list || [];
    if (!list.length) return pid ? 'pid ' + pid : '';
    return h('details', { class: 'evidence' }, h('summary', null, list.length + ' item' + (list.length > 1 ? 's' : '') +
      (pid ? ' (pid ' + pid + ')' : '')), h('ul', null, list.map(function (e) { return h('li', null, e); })));
  }
  function cveList(list) { return (list || []).map(function (c) { return link('files', { cve: c }, c, 'tag'); }); }

  /* list view with filters, paging and CSV export */
  function listView(opts, params) {
    var page = Math.max(1, parseInt(params.page || '1', 10) || 1);
    var per = Math.min(500, Math.max(1, parseInt(params.limit || '50', 10) || 50));
    var q = {};
    Object.keys(params).forEach(function (k) { if (k !== 'page') q[k] = params[k]; });
    var apiq = Object.assign({}, q, { page: page, limit: per, count: 1 });
    var holder = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    var filters = h('form', { class: 'filters', onsubmit: function (ev) {
      ev.preventDefault();
      var p = {};
      Array.prototype.forEach.call(filters.elements, function (el) {
        if (!el.name) return;
        if (el.type === 'checkbox') { if (el.checked) p[el.name] = 1; } else if (el.value) p[el.name] = el.value;
      });
      location.hash = '#/' + opts.route + qs(p);
    } }, opts.filters.map(function (f) {
      if (f.type === 'check') {
        return h('label', null, h('input', { type: 'checkbox', name: f.name, checked: q[f.name] ? true : null }), ' ', f.label);
      }
      if (f.type === 'select') {
        return h('select', { name: f.name, 'aria-label': f.label }, [''].concat(f.values).map(function (s) {
          return h('option', { value: s, selected: q[f.name] === s ? true : null }, s || f.label);
        }));
      }
      if (f.type === 'status') {
        var sel = h('select', { name: f.name }, ['', 'vulnerable', 'mitigated', 'safe'].map(function (s) {
          return h('option', { value: s, selected: q[f.name] === s ? true : null }, s || 'any status');
        }));
        return sel;
      }
      return h('input', { type: 'text', name: f.name, placeholder: f.label, value: q[f.name] || '' });
    }), h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: '/api/v1/' + opts.api + qs(Object.assign({}, q, { format: 'csv' })), download: opts.api + '.csv' },
      'Export CSV'));
    var active = Object.keys(q).filter(function (k) { return k !== 'limit'; }).map(function (k) { return tag(k + ': ' + q[k]); });
    setMain(h('h1', null, opts.title), filters, active.length ? h('p', null, active) : null, holder);
    api(opts.api + qs(apiq)).then(function (res) {
      holder.textContent = '';
      var sort = { by: q.sort || null, order: q.order || null, href: function (col, order) {
        var p = Object.assign({}, q, { sort: col, order: order });
        return '#/' + opts.route + qs(p);
      } };
      add(holder, table(opts.cols, res.items, opts.empty, sort));
      var pager = h('div', { class: 'pager', id: 'pager' });
      var first = (page - 1) * per;
      if (page > 1) add(pager, link(opts.route, Object.assign({}, q, { page: page - 1 }), '← previous', 'pager-prev'));
      if (res.total !== undefined) {
        var pages = Math.max(1, Math.ceil(res.total / per));
        add(pager, h('span', { class: 'muted', id: 'pager-state' }, res.items.length ? 'rows ' + num(first + 1) + '–' +
          num(first + res.items.length) + ' of ' + num(res.total) + (res.total_capped ? '+' : '') + ', page ' + page +
          ' of ' + num(pages) + (res.total_capped ? '+' : '') : 'page ' + page + ' (no row)'));
      } else {
        add(pager, h('span', { class: 'muted', id: 'pager-state' }, 'page ' + page));
      }
      if (res.more) add(pager, link(opts.route, Object.assign({}, q, { page: page + 1 }), 'next →', 'pager-next'));
      add(holder, pager);
    }).catch(fail(holder));
  }
  function fail(holder) {
    return function (e) {
      if (String(e.message) === 'login required') return;
      holder.textContent = '';
      add(holder, h('p', { class: 'error' }, 'Error: ' + (e.message || e)));
    };
  }

  /* ---------------------------------------------------------------- overview */
  /* since: {row, field} - the count at the end of an earlier day (the
   * trend's newest day before today: yesterday on a collector that took
   * reports yesterday); the card shows the change since then */
  function card(key, label, value, route, params, cls, since) {
    var delta = null;
    if (since && since.row && typeof since.row[since.field] === 'number' && typeof value === 'number') {
      var d = value - since.row[since.field];
      delta = h('div', { class: 'delta ' + (d > 0 ? 'up' : d < 0 ? 'down' : 'same'), 'data-delta': d,
        title: 'change since the end of ' + since.row.day + ' (UTC)' },
        (d > 0 ? '+' + num(d) : d < 0 ? '\u2212' + num(-d) : '\u00b10') + ' since ' + dayName(since.row.day));
    }
    return h('div', { class: 'card ' + (cls || ''), 'data-k': key },
      h('div', { class: 'label' }, label), link(route, params, num(value), 'num'), delta);
  }
  /* the trend's newest row of a day before today (UTC), or null */
  function previousDay(trend) {
    var today = new Date().toISOString().slice(0, 10), prev = null;
    (trend || []).forEach(function (p) { if (p.day < today && (!prev || p.day > prev.day)) prev = p; });
    return prev;
  }
  function dayName(day) {
    var y = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
    return day === y ? 'yesterday' : day;
  }

  /* the trend: device counts on the left axis, file counts on the right
   * (a fleet has many more files than devices), a legend with the colours,
   * and a dashed vertical mark, labelled with its id, where the rules
   * changed (changes: GET /api/v1/rules/changes) */
  var TREND = [['devices', 'devices', 'L'], ['exposed', 'exposed devices', 'L'], ['attacked', 'attacked devices', 'L'],
    ['vulnerable', 'vulnerable files', 'R']];
  function ruleMarks(changes) {
    var seen = {}, out = [];
    (changes || []).forEach(function (c) {
      var k = c.rules_id + '@' + c.at;
      if (seen[k]) return;
      seen[k] = 1;
      out.push({ id: c.rules_id, at: c.at, day: new Date(c.at * 1000).toISOString().slice(0, 10) });
    });
    return out;
  }
  function chart(trend, changes) {
    var NS = 'http://www.w3.org/2000/svg';
    function s(tag, attrs, text) {
      var el = document.createElementNS(NS, tag);
      Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
      if (text !== undefined) el.textContent = text;
      return el;
    }
    var pts = trend.slice().reverse();
    var W = 900, H = 220, L = 56, R = 56, T = 14, B = 24;
    var svg = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', id: 'trend-chart',
      'aria-label': 'trend: devices on the left axis, files on the right axis' });
    var max = { L: 1, R: 1 };
    pts.forEach(function (p) { TREND.forEach(function (x) { max[x[2]] = Math.max(max[x[2]], p[x[0]] || 0); }); });
    svg.appendChild(s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }));
    svg.appendChild(s('line', { class: 'axis axis-left', x1: L, y1: T, x2: L, y2: H - B }));
    svg.appendChild(s('line', { class: 'axis axis-right', x1: W - R, y1: T, x2: W - R, y2: H - B }));
    svg.appendChild(s('text', { x: L - 6, y: T + 8, 'text-anchor': 'end', class: 'axis-label-left' }, num(max.L)));
    svg.appendChild(s('text', { x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'));
    svg.appendChild(s('text', { x: 4, y: (T + H - B) / 2, class: 'axis-title-left' }, 'devices'));
    svg.appendChild(s('text', { x: W - R + 6, y: T + 8, class: 'axis-label-right' }, num(max.R)));
    svg.appendChild(s('text', { x: W - R + 6, y: H - B }, '0'));
    svg.appendChild(s('text', { x: W - R + 6, y: (T + H - B) / 2, class: 'axis-title-right' }, 'files'));
    var n = pts.length;
    function x(i) { return n <= 1 ? (L + W - R) / 2 : L + (W - R - L) * i / (n - 1); }
    function y(v, axis) { return H - B - (H - B - T) * (v || 0) / max[axis]; }
    TREND.forEach(function (sr) {
      var line = pts.map(function (p, i) { return x(i).toFixed(1) + ',' + y(p[sr[0]], sr[2]).toFixed(1); }).join(' ');
      if (n === 1) line = L + ',' + y(pts[0][sr[0]], sr[2]).toFixed(1) + ' ' + (W - R) + ',' + y(pts[0][sr[0]], sr[2]).toFixed(1);
      svg.appendChild(s('polyline', { class: 'l-' + sr[0] + (sr[2] === 'R' ? ' right' : ''), points: line }));
    });
    if (n) {
      svg.appendChild(s('text', { x: L, y: H - B + 14 }, pts[0].day));
      if (n > 1) svg.appendChild(s('text', { x: W - R, y: H - B + 14, 'text-anchor': 'end' }, pts[n - 1].day));
      /* a change on a day of the trend, or between two of its days */
      ruleMarks(changes).forEach(function (m) {
        var i = 0;
        while (i < n && pts[i].day < m.day) i++;
        if (i === n && pts[n - 1].day < m.day) return;   /* after the last day shown */
        var at = n === 1 || pts[i].day === m.day || i === 0 ? x(i) : (x(i - 1) + x(i)) / 2;
        var g = s('g', { class: 'rule-mark', 'data-rules': m.id });
        g.appendChild(s('line', { x1: at, y1: T, x2: at, y2: H - B }));
        g.appendChild(s('text', { x: at + 3, y: T + 8 }, 'rules ' + m.id));
        g.appendChild(s('title', {}, 'rules ' + m.id + ' active from ' + when(m.at)));
        svg.appendChild(g);
      });
    }
    var legend = h('div', { class: 'legend trend-legend', id: 'trend-legend' }, TREND.map(function (sr) {
      return h('span', { class: 'key', 'data-series': sr[0] }, h('span', { class: 'swatch l-' + sr[0] }),
        sr[1] + (sr[2] === 'L' ? ' (left axis)' : ' (right axis)'));
    }), ruleMarks(changes).length ? h('span', { class: 'key' }, h('span', { class: 'swatch rule' }), 'rules changed') : null);
    return h('div', { class: 'trend' }, svg, legend);
  }

  /* what the latest change of rules did (issue 22), when it was recent:
   * "rules updated (ID, time): N devices newly affected by CVE-X, M no
   * longer affected", each newly affected count a link to those devices */
  var RECENT_RULES = 7 * 86400;
  function rulesUpdate(changes) {
    var marks = ruleMarks(changes);
    if (!marks.length) return null;
    var last = marks.reduce(function (a, m) { return m.at > a.at ? m : a; });
    if (Date.now() / 1000 - last.at > RECENT_RULES) return null;
    var rows = changes.filter(function (c) { return c.rules_id === last.id && c.at === last.at && (c.newly || c.no_longer); });
    var p = h('p', { class: 'rules-update', id: 'rules-update' },
      link('rules', {}, 'rules updated (' + last.id + ', ' + when(last.at) + ')'), ': ');
    if (!rows.length) add(p, 'no device changed');
    rows.forEach(function (c, i) {
      /* each count drills down to exactly the devices that change moved
       * (#/rules?change=ID&kind=...), not to today's list for the CVE */
      var dev = function (n, kind, cls) {
        var t = num(n) + ' device' + (n === 1 ? '' : 's');
        return n && c.id != null ? link('rules', { change: c.id, kind: kind }, t, cls) : t;
      };
      add(p, i ? '; ' : '', dev(c.newly, 'newly', 'rules-newly'),
        ' newly affected by ', link('files', { cve: c.cve }, c.cve), ', ', dev(c.no_longer, 'no_longer', 'rules-no-longer'), ' no longer affected');
    });
    return p;
  }

  /* an empty fleet: how to enroll the first agent, not a page of zeros */
  function enrollHint() {
    var origin = location.origin;
    return h('div', { class: 'enroll', id: 'enroll' },
      h('h2', null, 'No device has reported yet'),
      h('p', null, 'Enroll an agent: on the collector, create a token for the fleet (it is printed once):'),
      h('pre', null, h('code', null, 'log4scan-server token create --name fleet')),
      h('p', null, 'then on each host, submit a scan to this collector with that token:'),
      h('pre', null, h('code', { id: 'enroll-submit' }, 'log4scan scan --submit ' + origin + ' --token l4s_...')),
      h('p', { class: 'muted' }, 'Hosts with the log4scan package put the same in /etc/log4scan/agent.conf ' +
        '(submit = ' + origin + ', token-file = /etc/log4scan/token) and enable log4scan.timer; ' +
        'the device appears here with its first report.'));
  }

  function overview() {
    var holder = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    setMain(h('h1', null, 'Fleet overview'), holder);
    /* the changes of rules are an extra: the overview shows without them */
    var changes = api('rules/changes').then(function (r) { return r.changes || []; }, function () { return []; });
    Promise.all([api('overview'), changes]).then(function (all) {
      var o = all[0], sm = o.summary, f = sm.findings;
      holder.textContent = '';
      var upd = rulesUpdate(all[1]);
      if (upd) add(holder, upd);
      var prevDay = previousDay(o.trend);
      var was = function (field) { return { row: prevDay, field: field }; };
      if (!sm.devices && !(f.vulnerable + f.mitigated + f.safe)) {
        add(holder, enrollHint());
        return;
      }
      /* the headline: critically exposed first (a reachable JVM running a
       * critical copy), then the rest of the exposure and what was not seen */
      add(holder, h('div', { class: 'cards headline', id: 'headline' },
        card('devices_critical_exposed', 'Critically exposed devices', sm.devices_critical_exposed, 'devices',
          { critical_exposed: 1 }, 'bad big'),
        card('devices_critical', 'Devices with critical files', sm.devices_critical, 'devices', { severity: 'critical' }, 'bad'),
        card('files_critical', 'Critical vulnerable files', sm.files_critical, 'files', { severity: 'critical', status: 'vulnerable' }, 'bad'),
        card('devices_not_fully_scanned', 'Not fully scanned', sm.devices_not_fully_scanned, 'devices', { partial: 1 }, 'warn')));
      add(holder, h('div', { class: 'cards', id: 'cards' },
        card('devices', 'Devices', sm.devices, 'devices', {}, null, was('devices')),
        card('devices_exposed', 'Exposed devices', sm.devices_exposed, 'devices', { exposed: 1 }, 'bad', was('exposed')),
        card('devices_exposed_attacked', 'Exposed and attacked', sm.devices_exposed_attacked, 'devices',
          { exposed: 1, attacked: 1 }, 'bad'),
        card('devices_vulnerable', 'Vulnerable devices', sm.devices_vulnerable, 'devices', { status: 'vulnerable' }, 'bad', was('devices_vulnerable')),
        card('vulnerable', 'Vulnerable files', f.vulnerable, 'files', { status: 'vulnerable' }, 'bad', was('vulnerable')),
        card('mitigated', 'Mitigated files', f.mitigated, 'files', { status: 'mitigated' }, 'warn', was('mitigated')),
        card('safe', 'Safe files', f.safe, 'files', { status: 'safe' }, 'good', was('safe')),
        card('restart', 'Restart required', sm.processes_restart_required, 'processes', { restart: 1 }, 'warn', was('restart')),
        card('attempts', 'Attempts seen', sm.attempts, 'attempts', {}, 'bad', was('attempts')),
        card('devices_attacked', 'Attacked devices', sm.devices_attacked, 'devices', { attacked: 1 }, 'bad', was('attacked')),
        card('devices_stale', 'Stale (' + sm.stale_days + ' days)', sm.devices_stale, 'devices', { stale: 1 }, 'warn'),
        card('shared_machine_ids', 'Shared machine ids (clones)', sm.shared_machine_ids, 'devices', { shared_machine_id: 1 }, 'warn')));

      var total = (f.vulnerable + f.mitigated + f.safe) || 1;
      var bar = h('div', { class: 'bar' });
      ['vulnerable', 'mitigated', 'safe'].forEach(function (k) {
        var seg = h('span', { class: k, title: k + ': ' + f[k] });
        seg.style.width = (100 * f[k] / total).toFixed(2) + '%';
        add(bar, seg);
      });
      add(holder, h('h2', null, 'Files: vulnerable, mitigated, safe'), bar, h('div', { class: 'legend' },
        ['vulnerable', 'mitigated', 'safe'].map(function (k) { return link('files', { status: k }, k + ' ' + num(f[k])); })));

      add(holder, h('h2', null, 'Trend'), chart(o.trend, all[1]));

      add(holder, h('div', { id: 'by-severity' }, h('h2', null, 'Vulnerable files by severity'), table([
        { t: 'Severity', first: 'desc', k: function (r) { return sevRank(r.severity); }, v: function (r) { return link('files', { severity: r.severity, status: 'vulnerable' }, sevTag(r.severity)); } },
        { t: 'Vulnerable devices', n: 1, k: function (r) { return r.devices_vulnerable; }, v: function (r) { return link('devices', { severity: r.severity }, num(r.devices_vulnerable)); } },
        { t: 'Vulnerable files', n: 1, k: function (r) { return r.files_vulnerable; }, v: function (r) { return link('files', { severity: r.severity, status: 'vulnerable' }, num(r.files_vulnerable)); } },
        { t: 'Mitigated files', n: 1, k: function (r) { return r.files_mitigated; }, v: function (r) { return link('files', { severity: r.severity, status: 'mitigated' }, num(r.files_mitigated)); } }
      ], o.by_severity || [], 'No file.')));

      var byCve = table([
        { t: 'CVE', k: function (r) { return verKey(r.cve); }, v: function (r) { return link('files', { cve: r.cve }, r.cve); } },
        { t: 'Severity', first: 'desc', k: function (r) { return sevRank(r.severity); }, v: function (r) { return sevTag(r.severity); } },
        { t: 'CVSS', n: 1, k: function (r) { return r.cvss ? parseFloat(r.cvss) : null; }, v: function (r) { return r.cvss || ''; } },
        { t: 'Title', v: function (r) { return r.title || '(not in this server\'s CVE table)'; } },
        { t: 'Vulnerable devices', n: 1, k: function (r) { return r.devices_vulnerable; }, v: function (r) { return link('devices', { cve: r.cve, status: 'vulnerable' }, num(r.devices_vulnerable)); } },
        { t: 'Vulnerable files', n: 1, k: function (r) { return r.files_vulnerable; }, v: function (r) { return link('files', { cve: r.cve, status: 'vulnerable' }, num(r.files_vulnerable)); } },
        { t: 'Mitigated files', n: 1, k: function (r) { return r.files_mitigated; }, v: function (r) { return link('files', { cve: r.cve, status: 'mitigated' }, num(r.files_mitigated)); } }
      ], o.by_cve);
      var byVer = table([
        { t: 'Software', k: function (r) { return verKey((r.component || '?') + ' ' + (r.version || '')); }, v: function (r) { return (r.component || '?') + ' ' + (r.version || '(unknown)'); } },
        { t: 'Vulnerable devices', n: 1, k: function (r) { return r.devices_vulnerable; }, v: function (r) { return link('devices', { component: r.component, version: r.version, status: 'vulnerable' }, num(r.devices_vulnerable)); } },
        { t: 'Files', n: 1, k: function (r) { return r.files_vulnerable + r.files_mitigated + r.files_safe; }, v: function (r) { return link('files', { component: r.component, version: r.version }, num(r.files_vulnerable + r.files_mitigated + r.files_safe)); } }
      ], o.by_version);
      add(holder, h('div', { class: 'grid2' },
        h('div', { id: 'by-cve' }, h('h2', null, 'By CVE (most severe first)'), byCve),
        h('div', { id: 'by-version' }, h('h2', null, 'By version ', link('versions', {}, '(all)')), byVer)));

      var rem = table([
        { t: 'Archive (sha256)', path: 1, k: function (r) { return r.sha256; }, v: function (r) { return link('files', { sha256: r.sha256 }, r.sha256.slice(0, 16) + '…'); } },
        { t: 'Software', v: function (r) { return r.label; } },
        { t: 'Severity', first: 'desc', k: function (r) { return sevRank(r.severity); }, v: function (r) { return sevTag(r.severity); } },
        { t: 'Devices', n: 1, k: function (r) { return r.devices; }, v: function (r) { return link('devices', { sha256: r.sha256, status: 'vulnerable' }, num(r.devices)); } },
        { t: 'Files', n: 1, k: function (r) { return r.files; }, v: function (r) { return link('files', { sha256: r.sha256, status: 'vulnerable' }, num(r.files)); } }
      ], o.remediation, 'No vulnerable archive.');
      var cb = table([
        { t: 'Callback host', v: function (r) { return r.host; } },
        { t: 'Domain to block', v: function (r) { return r.domain || ''; } },
        { t: 'Devices', n: 1, k: function (r) { return r.devices; }, v: function (r) { return link('devices', { host: r.host }, num(r.devices)); } },
        { t: 'Attempts', n: 1, k: function (r) { return r.attempts; }, v: function (r) { return link('attempts', { host: r.host }, num(r.attempts)); } }
      ], o.callbacks, 'No attempt seen.');
      add(holder, h('div', { class: 'grid2' },
        h('div', { id: 'remediation' }, h('h2', null, 'Remediation items (same archive on many devices)'), rem),
        h('div', { id: 'callbacks' }, h('h2', null, 'Attack callback hosts'), cb)));
      add(holder, h('h2', null, 'Devices to look at first'), table(deviceCols(), o.top_devices, 'No vulnerable device.'));
    }).catch(fail(holder));
  }

  var COVERAGE = { partial: 'partial scan', unknown: 'coverage unknown', none: 'not scanned' };
  /* a device without findings is "clean" only after a full scan */
  function coverageTag(d) {
    if (d.coverage === 'full') return (d.vulnerable || d.mitigated) ? null : tag('clean (full scan)', 'safe');
    return link('device/' + d.id, {}, COVERAGE[d.coverage] || 'partial scan', 'tag partial');
  }
  function deviceFlags(d) {
    return [d.critical_exposed ? tag('critically exposed', 'critical') : null,
      d.exposed ? tag('exposed', 'exposed') : null, d.attacked ? tag('attacked', 'attacked') : null,
      d.critical ? tag(num(d.critical) + ' critical', 'sev-critical') : null, coverageTag(d),
      d.stale ? tag('stale', 'stale') : null, d.restart_required ? tag('restart', 'restart') : null,
      d.shared_machine_id ? link('devices', { machine_id: d.machine_id }, 'machine id shared by ' + (d.shared_machine_id + 1) + ' devices', 'tag shared') : null];
  }
  /* the Flags column's client-side key: what a device's flags say, most
   * urgent highest (the API's sort=priority on the lists) */
  function flagRank(d) {
    return (d.critical_exposed ? 64 : 0) + (d.exposed ? 32 : 0) + (d.attacked ? 16 : 0) + (d.critical ? 8 : 0) +
      (d.coverage !== 'full' ? 4 : 0) + (d.restart_required ? 2 : 0) + (d.stale ? 1 : 0);
  }
  function deviceCols() {
    return [
      { t: 'Device', s: 'hostname', k: function (d) { return d.hostname || d.machine_id || ''; }, v: function (d) { return link('device/' + d.id, {}, d.hostname || d.machine_id || ('#' + d.id), 'device-link'); } },
      { t: 'Flags', s: 'priority', first: 'desc', k: flagRank, v: deviceFlags },
      { t: 'Vulnerable', s: 'vulnerable', n: 1, k: function (d) { return d.vulnerable; }, v: function (d) { return link('files', { device: d.id, status: 'vulnerable' }, num(d.vulnerable)); } },
      { t: 'Mitigated', s: 'mitigated', n: 1, k: function (d) { return d.mitigated; }, v: function (d) { return link('files', { device: d.id, status: 'mitigated' }, num(d.mitigated)); } },
      { t: 'Attempts', s: 'attempts', n: 1, k: function (d) { return d.attempts; }, v: function (d) { return link('attempts', { device: d.id }, num(d.attempts)); } },
      { t: 'OS', s: 'os', v: function (d) { return d.os; } },
      { t: 'Tags', v: function (d) { return (d.tags || []).map(function (t) { return link('devices', { tag: t }, t, 'tag'); }); } },
      { t: 'Last report', s: 'last_seen', first: 'desc', k: function (d) { return d.last_seen || null; }, v: function (d) { return whenEl(d.last_seen); } }
    ];
  }

  /* ---------------------------------------------------------------- lists */
  function devices(p) {
    listView({ route: 'devices', api: 'devices', title: 'Devices', cols: deviceCols(), filters: [
      { name: 'q', label: 'host name contains' }, { name: 'tag', label: 'tag' }, { name: 'cve', label: 'CVE' },
      { name: 'version', label: 'version' }, { name: 'status', type: 'status' },
      { name: 'severity', type: 'select', label: 'any severity', values: SEVERITIES },
      { name: 'coverage', type: 'select', label: 'any coverage', values: ['full', 'partial', 'unknown', 'none'] },
      { name: 'critical_exposed', type: 'check', label: 'critically exposed' },
      { name: 'partial', type: 'check', label: 'not fully scanned' },
      { name: 'exposed', type: 'check', label: 'exposed' }, { name: 'attacked', type: 'check', label: 'attacked' },
      { name: 'stale', type: 'check', label: 'stale' }, { name: 'restart', type: 'check', label: 'restart required' },
      { name: 'shared_machine_id', type: 'check', label: 'shared machine id' }, { name: 'machine_id', label: 'machine id' }] }, p);
  }
  function fileCols(withDevice) {
    var cols = [
      { t: 'Path', clip: 1, s: 'path', k: function (f) { return f.path; }, v: function (f) { return link('files', { device: f.device_id, path: f.path }, pathText(f.path), 'file-path'); } },
      { t: 'Software', s: 'version', k: function (f) { return verKey((f.component || '?') + ' ' + (f.version || '')); }, v: function (f) { return (f.component || '?') + ' ' + (f.version || '(unknown)'); } },
      { t: 'Severity', s: 'severity', first: 'desc', k: function (f) { return sevRank(f.severity); }, v: function (f) { return link('files', { severity: f.severity || '' }, sevTag(f.severity)); } },
      { t: 'Status', s: 'status', k: function (f) { return f.status; }, v: function (f) { return fileStatus(f); } },
      { t: 'CVEs', k: function (f) { return (f.cves || []).length ? verKey(f.cves.join(' ')) : null; }, v: function (f) { return cveList(f.cves); } },
      { t: 'Image', v: function (f) { return f.image ? [link('images', { image: f.image }, f.image + (f.image_tag ? ':' + f.image_tag : ''), 'image-link'), f.layer ? h('div', { class: 'muted path' }, 'layer ' + f.layer) : null] : ''; } },
      { t: 'Fixed in', s: 'fixed_in', k: function (f) { return verKey(f.fixed_in); }, v: function (f) { return f.fixed_in || ''; } },
      { t: 'sha256', path: 1, k: function (f) { return f.sha256 || (f.cd_sha256 ? 'cd:' + f.cd_sha256 : null); }, v: function (f) {
        // unhashed (the agents' default hashes only affected archives): the archive by its central directory
        var key = f.sha256 || (f.cd_sha256 ? 'cd:' + f.cd_sha256 : '');
        return key ? link('files', { sha256: key }, key.slice(0, 12) + '…') : '';
      } },
      { t: 'Evidence', first: 'desc', k: function (f) { return (f.evidence || []).length; }, v: function (f) { return evidence(f.evidence, f.pid); } }
    ];
    if (withDevice) cols.unshift({ t: 'Device', s: 'hostname', k: function (f) { return f.hostname; }, v: function (f) { return link('device/' + f.device_id, {}, f.hostname, 'device-link'); } });
    return cols;
  }
  function files(p) {
    var filters = [
      { name: 'path', label: 'path contains' }, { name: 'cve', label: 'CVE' }, { name: 'version', label: 'version' },
      { name: 'sha256', label: 'sha256' }, { name: 'tag', label: 'device tag' }, { name: 'image', label: 'image' },
      { name: 'status', type: 'status' }, { name: 'severity', type: 'select', label: 'any severity', values: SEVERITIES },
      { name: 'running', type: 'check', label: 'loaded by a JVM (each copy)' }];
    /* most severe first sorts every matching row: offered once a filter
     * narrows the list to a device, an archive, a version or an image (the
     * whole fleet's files are narrowed by severity instead) */
    if (p.device || p.sha256 || p.version || p.image || p.cve || p.sort) {
      filters.push({ name: 'sort', type: 'select', label: 'oldest first', values: ['severity'] });
    }
    /* a header sort is one of every matching row too: offered once a filter
     * narrows the list (the whole fleet's files sorted by path take
     * seconds at 2,000,000) */
    var cols = fileCols(true);
    if (!(p.device || p.sha256 || p.version || p.image || p.cve || p.path || p.sort)) {
      cols.forEach(function (c) { delete c.s; });
    }
    listView({ route: 'files', api: 'findings', title: 'Files', cols: cols, filters: filters }, p);
  }
  function versions(p) {
    listView({ route: 'versions', api: 'versions', title: 'Software: each Log4j version', filters: [
      { name: 'component', label: 'component' }], cols: [
      { t: 'Component', s: 'component', v: function (r) { return r.component; } },
      { t: 'Version', s: 'version', v: function (r) { return link('files', { component: r.component, version: r.version }, r.version || '(unknown)'); } },
      { t: 'Vulnerable devices', s: 'devices_vulnerable', n: 1, v: function (r) { return link('devices', { component: r.component, version: r.version, status: 'vulnerable' }, num(r.devices_vulnerable)); } },
      { t: 'Vulnerable files', s: 'files_vulnerable', n: 1, v: function (r) { return link('files', { component: r.component, version: r.version, status: 'vulnerable' }, num(r.files_vulnerable)); } },
      { t: 'Mitigated files', s: 'files_mitigated', n: 1, v: function (r) { return link('files', { component: r.component, version: r.version, status: 'mitigated' }, num(r.files_mitigated)); } },
      { t: 'Safe files', s: 'files_safe', n: 1, v: function (r) { return link('files', { component: r.component, version: r.version, status: 'safe' }, num(r.files_safe)); } }] }, p);
  }
  function procCols(withDevice) {
    var cols = [
      { t: 'PID', s: 'pid', n: 1, first: 'asc', k: function (r) { return r.pid; }, v: function (r) { return r.pid; } },
      { t: 'User', s: 'user', k: function (r) { return r.user || null; }, v: function (r) { return r.user || ''; } },
      { t: 'Command', path: 1, k: function (r) { return r.command || null; }, v: function (r) { return r.command || ''; } },
      { t: 'Status', s: 'status', first: 'desc', k: function (r) { return r.status; }, v: function (r) { return [statusTag(r.status), r.exposed ? tag('exposed', 'exposed') : null, r.restart_required ? tag('restart required', 'restart') : null]; } },
      { t: 'Severity', first: 'desc', k: function (r) { return r.severity ? sevRank(r.severity) : null; }, v: function (r) { return r.severity ? sevTag(r.severity) : ''; } },
      { t: 'Listening', v: function (r) {
        return (r.listening || []).map(function (l) {
          var text = l.proto + ' ' + (l.addr.indexOf(':') >= 0 ? '[' + l.addr + ']' : l.addr) + ':' + l.port;
          return isLoopback(l.addr) ? tag(text + ' (loopback: not exposed)', 'loopback') : tag(text, r.status === 'vulnerable' ? 'exposed' : '');
        });
      } },
      { t: 'Jars', path: 1, v: function (r) { return (r.jars || []).join('\n'); } },
      { t: 'Container', v: function (r) { return r.container || ''; } }
    ];
    if (withDevice) cols.unshift({ t: 'Device', s: 'hostname', k: function (r) { return r.hostname; }, v: function (r) { return link('device/' + r.device_id, {}, r.hostname, 'device-link'); } });
    return cols;
  }
  function processes(p) {
    listView({ route: 'processes', api: 'processes', title: 'Java processes', cols: procCols(true), filters: [
      { name: 'status', type: 'status' }, { name: 'exposed', type: 'check', label: 'exposed' },
      { name: 'restart', type: 'check', label: 'restart required' }, { name: 'tag', label: 'device tag' }] }, p);
  }
  function attemptCols(withDevice) {
    var cols = [
      { t: 'Callback', s: 'host', k: function (a) { return a.host || null; }, v: function (a) { return a.host ? link('attempts', { host: a.host }, (a.protocol || '') + ' ' + a.host + (a.port ? ':' + a.port : '')) : ''; } },
      { t: 'Block', v: function (a) { return a.domain || ''; } },
      { t: 'Decoded', path: 1, v: function (a) { return a.decoded || a.raw || ''; } },
      { t: 'Client', s: 'client', v: function (a) { return a.client || ''; } },
      { t: 'When', s: 'timestamp', first: 'desc', k: function (a) { return timeKey(a.timestamp); }, v: function (a) { return a.timestamp || ''; } },
      { t: 'Log', clip: 1, k: function (a) { return a.path ? verKey(a.path + (a.line ? ':' + a.line : '')) : null; }, v: function (a) { return pathText((a.path || '') + (a.line ? ':' + a.line : '')); } },
      { t: 'Leaks', v: function (a) { return (a.exfil || []).join(', '); } },
      { t: 'Payload', path: 1, v: function (a) { return a.payload || (a.payload_b64 ? 'base64: ' + a.payload_b64 : ''); } }
    ];
    if (withDevice) cols.unshift({ t: 'Device', s: 'hostname', k: function (a) { return a.hostname; }, v: function (a) { return link('device/' + a.device_id, {}, a.hostname, 'device-link'); } });
    return cols;
  }
  function attempts(p) {
    var cbHolder = h('div');
    listView({ route: 'attempts', api: 'attempts', title: 'Exploitation attempts', cols: attemptCols(true), filters: [
      { name: 'host', label: 'callback host' }, { name: 'protocol', label: 'protocol' }, { name: 'client', label: 'client' },
      { name: 'tag', label: 'device tag' }] }, p);
    add(main, h('h2', null, 'Callback hosts'), cbHolder);
    api('callbacks?limit=100').then(function (r) {
      add(cbHolder, table([
        { t: 'Host', v: function (x) { return link('attempts', { host: x.host }, x.host); } },
        { t: 'Domain to block', v: function (x) { return x.domain || ''; } },
        { t: 'Devices', n: 1, k: function (x) { return x.devices; }, v: function (x) { return link('devices', { host: x.host }, num(x.devices)); } },
        { t: 'Attempts', n: 1, k: function (x) { return x.attempts; }, v: function (x) { return link('attempts', { host: x.host }, num(x.attempts)); } }], r.items, 'No attempt seen.'));
    }).catch(fail(cbHolder));
  }

  /* ---------------------------------------------------------------- device */
  var DEVICE_ROWS = 500;
  function device(id) {
    var holder = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    setMain(holder);
    api('devices/' + encodeURIComponent(id)).then(function (d) {
      holder.textContent = '';
      add(holder, h('h1', { id: 'device-title' }, d.hostname || d.machine_id, ' ', deviceFlags(d)));
      add(holder, h('dl', { class: 'kv' },
        h('dt', null, 'Machine id'), h('dd', null, d.machine_id || '(none: identified by host name)',
          d.shared_machine_id ? [' ', link('devices', { machine_id: d.machine_id }, 'shared with ' + d.shared_machine_id + ' other device' + (d.shared_machine_id > 1 ? 's' : '') + ' (cloned machines: each install is its own device)', 'tag shared')] : null),
        h('dt', null, 'Agent id'), h('dd', null, d.agent_id || '(none: an agent before 0.2)'),
        h('dt', null, 'OS / kernel'), h('dd', null, d.os + ' / ' + d.kernel),
        h('dt', null, 'IP addresses'), h('dd', null, (d.ips || []).join(', ')),
        h('dt', null, 'Tags'), h('dd', null, (d.tags || []).map(function (t) { return link('devices', { tag: t }, t, 'tag'); })),
        h('dt', null, 'Agent'), h('dd', null, d.agent_version),
        h('dt', null, 'Last report'), h('dd', { id: 'last-report' }, whenEl(d.last_seen), d.stale ? [' ', tag('stale', 'stale')] : null),
        h('dt', null, 'First seen'), h('dd', null, whenEl(d.first_seen)),
        h('dt', null, 'Files'), h('dd', null, link('files', { device: d.id, status: 'vulnerable' }, num(d.vulnerable) + ' vulnerable'), ', ',
          link('files', { device: d.id, status: 'mitigated' }, num(d.mitigated) + ' mitigated'), ', ',
          link('files', { device: d.id, status: 'safe' }, num(d.safe) + ' safe'))));
      deviceHooks.forEach(function (fn) { add(holder, fn(d)); });
      add(holder, h('h2', null, 'What the last scan covered'), coverageBox(d));
      /* each table holds the device's first DEVICE_ROWS rows (count=1: and
       * says how many there are), sorted and paged in the browser; the
       * rest are a link away: the fleet list narrowed to the device, or CSV */
      var dq = { device: d.id, limit: DEVICE_ROWS, count: 1 };
      var sections = [
        ['Files (most severe first)', 'findings' + qs(Object.assign({ sort: 'severity' }, dq)), fileCols(false), 'device-files',
          'most severe first', link('files', { device: d.id, sort: 'severity' }, 'the Files view')],
        ['Java processes', 'processes' + qs(dq), procCols(false), 'device-processes', 'by PID',
          link('processes', { device: d.id }, 'the Processes view')],
        ['Attempts', 'attempts' + qs(dq), attemptCols(false), 'device-attempts', 'newest first',
          link('attempts', { device: d.id }, 'the Attempts view')],
        ['Scan errors', 'errors' + qs(dq), [
          { t: 'Path', clip: 1, k: function (e) { return e.path || null; }, v: function (e) { return pathText(e.path); } },
          { t: 'Error', k: function (e) { return e.error || null; }, v: function (e) { return e.error || ''; } }], 'device-errors', 'in the report\'s order',
          h('a', { href: '/api/v1/errors' + qs({ device: d.id, format: 'csv' }), download: 'errors.csv' }, 'CSV')],
        ['Reports', 'reports' + qs(dq), [
          { t: 'Received', first: 'desc', k: function (r) { return r.received || null; }, v: function (r) { return whenEl(r.received); } },
          { t: 'Command', k: function (r) { return r.command || null; }, v: function (r) { return r.command; } },
          { t: 'Created', first: 'desc', k: function (r) { return r.created || null; }, v: function (r) { return whenEl(r.created); } },
          { t: 'Findings', n: 1, k: function (r) { return r.findings; }, v: function (r) { return num(r.findings); } },
          { t: 'Applied', k: function (r) { return r.applied ? 1 : 0; }, first: 'desc', v: function (r) { return r.applied ? 'current' : 'older (history only)'; } }],
          'device-reports', 'newest first', h('a', { href: '/api/v1/reports' + qs({ device: d.id, format: 'csv' }), download: 'reports.csv' }, 'CSV')]];
      sections.forEach(function (s) {
        var box = h('div', { id: s[3] }, h('p', { class: 'muted' }, 'Loading…'));
        add(holder, h('h2', null, s[0]), box);
        api(s[1]).then(function (r) {
          box.textContent = '';
          if (r.more) {
            add(box, h('p', { class: 'muted list-note' }, 'The first ' + num(r.items.length) + ' of ' +
              (r.total !== undefined ? num(r.total) + (r.total_capped ? '+' : '') : 'more') + ' (' + s[4] +
              '); sorting here orders these ' + num(r.items.length) + '. All of them: ', s[5], '.'));
          }
          add(box, table(s[2], r.items));
        }).catch(fail(box));
      });
    }).catch(fail(holder));
  }

  function coverageBox(d) {
    var c = d.coverage_detail || {};
    var states = { full: 'Full: the whole host, nothing that matters skipped',
      partial: 'Partial: this device is not known to be clean', unknown: 'Unknown: the agent did not say what it covered',
      none: 'No scan yet (only processes or logs were reported)' };
    var box = h('div', { id: 'device-coverage', class: 'coverage ' + (d.coverage === 'full' ? 'full' : 'partial') },
      h('p', { id: 'coverage-state' }, tag(d.coverage || 'none', d.coverage === 'full' ? 'safe' : 'partial'), ' ',
        states[d.coverage] || ''));
    if (c.reasons && c.reasons.length) add(box, h('ul', { id: 'coverage-reasons' }, c.reasons.map(function (r) { return h('li', null, r); })));
    if (d.coverage !== 'none') {
      add(box, h('dl', { class: 'kv' },
        h('dt', null, 'Roots'), h('dd', { class: 'path' }, c.whole_host ? 'whole host (' + (c.paths || []).join(', ') + ')' : (c.paths || []).join(', ') || '(not said)'),
        h('dt', null, 'Excluded'), h('dd', { class: 'path' }, (c.exclude || []).join(', ') || 'nothing'),
        h('dt', null, 'Running JVMs'), h('dd', null, c.processes === undefined ? '(not said)' : c.processes ? 'included' : 'not included'),
        h('dt', null, 'Files examined'), h('dd', null, num(c.files)),
        h('dt', null, 'Not reached'), h('dd', null, num(c.not_reached) + ' files (time budget)'),
        h('dt', null, 'Unreadable'), h('dd', null, link('device/' + d.id, {}, num(c.errors) + ' files (see Scan errors below)')),
        h('dt', null, 'Time'), h('dd', null, c.seconds !== undefined ? c.seconds.toFixed(1) + ' s' : '-'),
        h('dt', null, 'Agent'), h('dd', null, c.agent_version || '-'),
        h('dt', null, 'Scan made'), h('dd', null, whenEl(c.created))));
      var sk = c.skipped || [];
      add(box, h('h3', null, 'Skipped (' + num(c.skipped_total || sk.length) + ')'), table([
        { t: 'Path', path: 1, v: function (x) { return x.path; } },
        { t: 'Reason', v: function (x) { return x.reason; } },
        { t: 'Leaves a gap', first: 'desc', k: function (x) { return x.gap ? 1 : 0; }, v: function (x) { return x.gap ? tag('yes', 'partial') : tag('no', 'safe'); } }], sk, 'Nothing skipped.'));
    }
    return box;
  }

  /* ---------------------------------------------------------------- images */
  function images(p) {
    listView({ route: 'images', api: 'images', title: 'Container images with Log4j', filters: [
      { name: 'image', label: 'image' }], cols: [
      { t: 'Image', s: 'image', path: 1, v: function (r) { return link('images', { image: r.image }, r.image, 'image-link'); } },
      { t: 'Tag', s: 'tag', v: function (r) { return r.tag; } },
      { t: 'Severity', s: 'severity', first: 'desc', v: function (r) { return r.severity_rank ? sevTag(SEVERITIES[4 - r.severity_rank]) : tag('no vulnerable file', 'safe'); } },
      { t: 'Vulnerable devices', s: 'devices_vulnerable', n: 1, v: function (r) { return link('devices', { image: r.image }, num(r.devices_vulnerable)); } },
      { t: 'Devices', s: 'devices', n: 1, v: function (r) { return num(r.devices); } },
      { t: 'Vulnerable files', s: 'files_vulnerable', n: 1, v: function (r) { return link('files', { image: r.image, status: 'vulnerable' }, num(r.files_vulnerable)); } },
      { t: 'Deleted in a later layer', s: 'files_vulnerable_removed', n: 1, v: function (r) { return num(r.files_vulnerable_removed); } },
      { t: 'Mitigated / safe files', n: 1, v: function (r) { return num(r.files_mitigated) + ' / ' + num(r.files_safe); } }] }, p);
    if (!p.image) return;
    var box = h('div', { id: 'image-layers' }, h('p', { class: 'muted' }, 'Loading…'));
    add(main, h('h2', null, 'Layers of ', h('span', { class: 'path' }, p.image), ' that brought Log4j'), box);
    api('layers' + qs({ image: p.image, limit: 500 })).then(function (r) {
      box.textContent = '';
      add(box, table([
        { t: 'Tag', v: function (x) { return x.tag; } },
        { t: 'Layer', path: 1, v: function (x) { return link('files', { image: p.image, layer: x.layer }, x.layer || '(none)', 'layer-link'); } },
        { t: 'Software', k: function (x) { return verKey(x.component + ' ' + x.version_min); }, v: function (x) { return x.component + ' ' + (x.version_min === x.version_max ? x.version_min : x.version_min + '…' + x.version_max); } },
        { t: 'Vulnerable in the image', n: 1, k: function (x) { return x.files_vulnerable; }, v: function (x) { return num(x.files_vulnerable); } },
        { t: 'Deleted by a later layer', n: 1, k: function (x) { return x.files_vulnerable_removed; }, v: function (x) { return x.files_vulnerable_removed ? tag(num(x.files_vulnerable_removed) + ' deleted later', 'removed') : '0'; } },
        { t: 'Devices', n: 1, k: function (x) { return x.devices; }, v: function (x) { return num(x.devices); } }], r.items, 'No layer.'));
    }).catch(fail(box));
  }


  /* ---------------------------------------------------------------- router */
  function parseHash() {
    var hsh = location.hash.replace(/^#\/?/, '');
    var qpos = hsh.indexOf('?');
    var path = qpos < 0 ? hsh : hsh.slice(0, qpos);
    var params = {};
    if (qpos >= 0) {
      hsh.slice(qpos + 1).split('&').forEach(function (kv) {
        if (!kv) return;
        var i = kv.indexOf('=');
        var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
        params[k] = i < 0 ? '1' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, ' '));
      });
    }
    return { path: path, params: params };
  }
  function route() {
    if (!state.user) return;
    var r = parseHash();
    var parts = r.path.split('/');
    Array.prototype.forEach.call(document.querySelectorAll('nav a'), function (a) {
      a.className = a.getAttribute('data-route') === parts[0] ? 'active' : '';
    });
    window.scrollTo(0, 0);
    for (var i = 0; i < views.length; i++) if (views[i].route === parts[0] && mayShow(views[i])) return views[i].show(r.params);
    switch (parts[0]) {
      case 'devices': return devices(r.params);
      case 'device': return device(parts[1] || '');
      case 'files': return files(r.params);
      case 'versions': return versions(r.params);
      case 'processes': return processes(r.params);
      case 'attempts': return attempts(r.params);
      case 'images': return images(r.params);
      default: return overview();
    }
  }
  window.addEventListener('hashchange', route);

  fetch('/api/v1/session', { credentials: 'same-origin' }).then(function (r) {
    if (!r.ok) { showLogin(); return; }
    return r.json().then(function (j) { state.user = j.user; state.csrf = j.csrf; state.role = j.role; chrome(); route(); });
  }).catch(function () { showLogin('The server cannot be reached.'); });
})();
