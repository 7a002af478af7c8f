/* view_team.js - running the collector for a team (issue 20 point 9):
 * #/team (admins only) lists the retired devices, the users and the tokens;
 * the device page shows whether a device is retired or came back, and, to
 * an admin only, buttons to retire, unretire or delete it.  An admin also
 * adds users (name, password, role) and creates tokens (name, role): a new
 * token's value is shown once, in the page, and never again (only its hash
 * is kept).  A viewer sees no control (and the API answers 403 anyway).  Changes carry the
 * session's CSRF header; the device's name is shown as text. */
'use strict';

(function () {
  var l = window.l4s;
  if (!l) return;
  var h = l.h;
  function send(method, path, body) {
    var headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': l.state.csrf || '' };
    return fetch('/api/v1/' + path, { method: method, credentials: 'same-origin', headers: headers,
      body: body ? JSON.stringify(body) : null }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; });
    });
  }
  function button(text, id, confirmText, action, after) {
    var msg = h('span', { class: 'error' });
    var b = h('button', { type: 'button', id: id, onclick: function () {
      if (confirmText && !window.confirm(confirmText)) return;
      action().then(after).catch(function (e) { msg.textContent = String(e.message || e); });
    } }, text);
    return [b, ' ', msg];
  }
  function deviceButtons(d, after) {
    var id = d.id;
    var out = [];
    if (d.retired) {
      out.push(button('Unretire', 'unretire-' + id, null, function () { return send('POST', 'devices/' + id + '/unretire'); }, after));
    } else {
      out.push(button('Retire', 'retire-' + id, 'Retire this device? It leaves every count and list; its history is kept.',
        function () { return send('POST', 'devices/' + id + '/retire'); }, after));
    }
    out.push(button('Delete', 'delete-' + id, 'Delete this device and all its rows? This cannot be undone.',
      function () { return send('DELETE', 'devices/' + id); }, after));
    return out;
  }

  l.onDevice(function (d) {
    var box = h('div', { class: 'device-state', id: 'device-state' });
    if (d.retired) l.add(box, l.tag('retired ' + l.when(d.retired), 'stale'), ' ');
    if (d.reappeared) l.add(box, l.tag('reported again after being retired (' + l.when(d.reappeared) + ')', 'vulnerable'), ' ');
    if (l.state.role === 'admin') {
      l.add(box, deviceButtons(d, function (j) {
        if (j.deleted) location.hash = '#/devices'; else l.route();
      }));
    }
    return box.firstChild ? box : null;
  });

  function section(title, path, cols, empty) {
    var box = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    l.api(path).then(function (r) {
      box.textContent = '';
      l.add(box, l.table(cols, r.items, empty));
    }).catch(l.fail(box));
    return [h('h2', null, title), box];
  }

  /* a form of labelled fields (class filters: the dashboard's form look);
   * submit(values) returns a promise; its answer goes to done(answer, out) */
  function form(id, fields, label, submit, done) {
    var msg = h('span', { class: 'error', id: id + '-error' }), out = h('div', { id: id + '-result' });
    var els = {};
    var f = h('form', { class: 'filters', id: id, onsubmit: function (ev) {
      ev.preventDefault();
      msg.textContent = '';
      var v = {};
      Object.keys(els).forEach(function (k) { v[k] = els[k].value; });
      submit(v).then(function (j) { f.reset(); done(j, out); }).catch(function (e) { msg.textContent = String(e.message || e); });
    } });
    fields.forEach(function (x) {
      var el = x.options ? h('select', { id: id + '-' + x.name }, x.options.map(function (o) { return h('option', { value: o }, o); }))
        : h('input', { id: id + '-' + x.name, type: x.type || 'text', required: 'required', autocomplete: 'off',
          minlength: x.min || null, maxlength: x.max || null });
      els[x.name] = el;
      l.add(f, h('label', { for: id + '-' + x.name }, x.label), el);
    });
    l.add(f, h('button', { type: 'submit', id: id + '-submit' }, label), msg);
    return [f, out];
  }
  function newUser() {
    return form('new-user', [{ name: 'name', label: 'Name', max: 128 }, { name: 'password', label: 'Password', type: 'password', min: 8, max: 1000 },
      { name: 'role', label: 'Role', options: ['viewer', 'admin'] }], 'Add user',
    function (v) { return send('POST', 'users', v); }, function () { l.route(); });
  }
  function newToken() {
    return form('new-token', [{ name: 'name', label: 'Name', max: 128 }, { name: 'role', label: 'Role', options: ['agent', 'read', 'metrics'] }],
      'Create token', function (v) { return send('POST', 'tokens', v); }, function (j, out) {
        /* shown once: the page is not reloaded, so that it can be copied */
        out.textContent = '';
        l.add(out, h('p', null, 'Token ', h('b', null, j.name), ' (', j.role, '), shown once; copy it now: ',
          h('code', { id: 'new-token-value' }, j.token)),
        h('p', { class: 'muted' }, j.role === 'agent' ? 'On a host: log4scan scan --submit URL --token-file FILE (the file holding this token, mode 0600).'
          : 'Send it as Authorization: Bearer TOKEN.'));
      });
  }

  l.register({ route: 'team', label: 'Team', admin: true, show: function () {
    var reload = function () { l.route(); };
    l.setMain(h('h1', null, 'Team and devices'),
      h('p', { class: 'muted' }, 'Users, tokens and devices are also managed with log4scan-server user, token and device (log4scan-server(8)).'),
      section('Retired devices', 'devices?retired=1&limit=500', [
        { t: 'Device', v: function (d) { return l.link('device/' + d.id, {}, d.hostname || d.machine_id, 'device-link'); } },
        { t: 'Retired', v: function (d) { return l.when(d.retired); } },
        { t: 'Last report', v: function (d) { return l.when(d.last_seen); } },
        { t: '', v: function (d) { return deviceButtons(d, reload); } }], 'No retired device.'),
      h('h2', null, 'Add a user'), newUser(),
      h('h2', null, 'Create a token'), newToken(),
      section('Users', 'users?limit=500', [
        { t: 'User', v: function (u) { return u.name; } }, { t: 'Role', v: function (u) { return l.tag(u.role); } },
        { t: 'Created', v: function (u) { return l.when(u.created); } },
        { t: 'Last login', v: function (u) { return l.when(u.last_login); } },
        { t: '', v: function (u) {
          return u.name === l.state.user ? '(you)' : [
            button(u.role === 'admin' ? 'Make viewer' : 'Make admin', 'role-' + u.name, null, function () {
              return send('POST', 'users/' + encodeURIComponent(u.name) + '/role', { role: u.role === 'admin' ? 'viewer' : 'admin' });
            }, reload),
            button('Delete', 'user-delete-' + u.name, 'Delete this user?', function () {
              return send('DELETE', 'users/' + encodeURIComponent(u.name));
            }, reload)];
        } }], 'No user.'),
      section('Tokens', 'tokens?limit=500', [
        { t: 'Name', v: function (x) { return x.name; } }, { t: 'Role', v: function (x) { return l.tag(x.role); } },
        { t: 'Created', v: function (x) { return l.when(x.created); } },
        { t: 'Last used', v: function (x) { return l.when(x.last_used); } },
        { t: 'State', v: function (x) { return x.revoked ? 'revoked ' + l.when(x.revoked) : 'active'; } },
        { t: '', v: function (x) {
          return x.revoked ? button('Delete', 'token-delete-' + x.id, 'Delete this token?', function () {
            return send('DELETE', 'tokens/' + encodeURIComponent(x.name));
          }, reload) : button('Revoke', 'token-revoke-' + x.id, 'Revoke this token? Agents using it are refused within 10 s.', function () {
            return send('POST', 'tokens/' + encodeURIComponent(x.name) + '/revoke');
          }, reload);
        } }], 'No token.'));
  } });
})();
