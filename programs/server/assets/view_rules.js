/* view_rules.js - the collector's rules on the dashboard (issue 22):
 * #/rules shows the active rules (id, SHA-256, when loaded), a re-judging
 * in progress with its progress (the page refreshes itself until it ends),
 * every version kept, and what each change of rules did: "N devices newly
 * affected by CVE-X, M no longer affected", each number a link to the list
 * of exactly those devices (#/rules?change=ID&kind=newly|no_longer, from
 * GET /api/v1/devices?rules_change=ID&change=...).  An admin may make
 * any version kept active again (POST /api/v1/rules/rollback, with the
 * session's CSRF token).  Everything the server sends is shown as text. */
'use strict';

(function () {
  var l = window.l4s;
  if (!l) return;
  var h = l.h;
  var timer = null;

  function rulesName(r) {
    return r.id === 0 ? 'built-in' : '#' + r.id + ' ' + (r.source || '');
  }

  function drill(params) {
    var kind = params.kind === 'no_longer' ? 'no_longer' : 'newly';
    var box = h('div', { id: 'rules-devices' }, h('p', { class: 'muted' }, 'Loading…'));
    var what = kind === 'newly' ? 'Devices newly affected' : 'Devices no longer affected';
    var title = h('h1', { id: 'rules-devices-title' }, what);
    l.setMain(h('p', null, l.link('rules', {}, '← Rules', 'back')),
      title, box);
    Promise.all([
      l.api('rules/changes'),
      l.api('devices?limit=500&rules_change=' + encodeURIComponent(params.change) + '&change=' + kind)
    ]).then(function (rs) {
      var ch = rs[0].changes.filter(function (c) { return String(c.id) === String(params.change); })[0];
      box.textContent = '';
      if (ch) {
        title.textContent = what + ' by ' + ch.cve;
        l.add(box, h('p', { id: 'rules-devices-what' }, (kind === 'newly' ? 'Newly affected by ' : 'No longer affected by ') +
          ch.cve + ' when rules ' + (ch.rules_id === 0 ? 'built-in' : '#' + ch.rules_id) + ' replaced ' +
          (ch.prev_id === 0 ? 'the built-in rules' : 'rules #' + ch.prev_id) + ' (' + l.when(ch.at) + ').'));
      }
      l.add(box, l.table([
        { t: 'Device', v: function (d) { return l.link('device/' + d.id, {}, d.hostname || d.machine_id || ('#' + d.id), 'rules-device'); } },
        { t: 'Vulnerable', n: true, v: function (d) { return l.num(d.vulnerable); } },
        { t: 'Mitigated', n: true, v: function (d) { return l.num(d.mitigated); } },
        { t: 'Last report', v: function (d) { return l.when(d.last_seen); } }], rs[1].items, 'No device.'));
      if (rs[1].more) {
        var all = ch ? (kind === 'newly' ? ch.newly : ch.no_longer) : 0;
        l.add(box, h('p', { class: 'muted' }, 'The first ' + rs[1].items.length + ' of ' + l.num(all) + ' devices (all of them: ',
          h('a', { href: '/api/v1/devices?format=csv&limit=100000&rules_change=' + encodeURIComponent(params.change) + '&change=' + kind }, 'CSV'), ').'));
      }
    }).catch(l.fail(box));
  }

  function changeLine(c) {
    var parts = [l.when(c.at) + ': ', h('strong', null, c.cve), ' - '];
    parts.push(c.newly ? l.link('rules', { change: c.id, kind: 'newly' }, l.num(c.newly), 'rules-newly') : '0');
    parts.push(' devices newly affected, ');
    parts.push(c.no_longer ? l.link('rules', { change: c.id, kind: 'no_longer' }, l.num(c.no_longer), 'rules-no-longer') : '0');
    parts.push(' no longer affected');
    return h('li', { class: 'rules-change', 'data-cve': c.cve }, parts);
  }

  /* an admin makes rules kept before active again (POST with the CSRF
   * token); the page then shows the re-judging's progress */
  function rollbackButton(x) {
    var msg = h('span', { class: 'error' });
    var b = h('button', { type: 'button', id: 'rules-activate-' + x.id, onclick: function () {
      if (!window.confirm('Make rules ' + rulesName(x) + ' active? Every stored finding is judged again.')) return;
      l.post('rules/rollback', { id: x.id }).then(function (res) {
        return res.json().then(function (j) { if (!res.ok) throw new Error(j.error || res.statusText); l.route(); });
      }).catch(function (e) { msg.textContent = String(e.message || e); });
    } }, 'Make active');
    return [b, ' ', msg];
  }

  function overview() {
    var box = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    l.setMain(h('h1', null, 'Rules'),
      h('p', { class: 'muted' }, 'The rules that judge the fleet\'s findings. Load, list and roll back with ' +
        'log4scan-server rules load FILE | list | rollback ID: every stored finding is judged again, no host touched.'),
      box);
    Promise.all([l.api('rules'), l.api('rules/changes')]).then(function (rs) {
      var r = rs[0], changes = rs[1].changes;
      box.textContent = '';
      var act = r.rules.filter(function (x) { return x.id === r.active; })[0] || { id: r.active };
      l.add(box, h('h2', null, 'Active'),
        h('p', { id: 'rules-active' }, 'Rules ', h('strong', null, rulesName(act)), ', SHA-256 ',
          h('code', null, act.sha256 || '?'), act.loaded ? ', loaded ' + l.when(act.loaded) : '',
          r.last_change ? ', active since ' + l.when(r.last_change) : ''));
      if (r.judging) {
        var j = r.judging, pct = j.total ? Math.floor(100 * j.judged / j.total) : 0;
        l.add(box, h('p', { id: 'rules-judging' }, 'Re-judging for rules #' + j.target + ': ' + l.num(j.judged) +
          ' of ' + l.num(j.total) + ' findings (' + pct + ' %), started ' + l.when(j.started) +
          '. The counts stay those of the active rules until it ends.'),
          h('progress', { max: String(j.total || 1), value: String(j.judged) }));
        if (timer) clearTimeout(timer);
        timer = setTimeout(function () { timer = null; if (/^#\/rules/.test(location.hash)) l.route(); }, 2000);
      }
      l.add(box, h('h2', null, 'What changed'));
      var byChange = {}, order = [];
      changes.forEach(function (c) {
        var k = c.rules_id + '@' + c.at;
        if (!byChange[k]) { byChange[k] = []; order.push(k); }
        byChange[k].push(c);
      });
      if (!order.length) l.add(box, h('p', { class: 'muted', id: 'rules-no-change' }, 'No change of rules has changed a device yet.'));
      order.forEach(function (k) {
        var cs = byChange[k], c0 = cs[0];
        l.add(box, h('div', { class: 'rules-update' },
          h('h3', null, 'Rules updated (' + (c0.rules_id === 0 ? 'built-in' : '#' + c0.rules_id) + ', ' + l.when(c0.at) + ')' +
            ' replacing ' + (c0.prev_id === 0 ? 'built-in' : '#' + c0.prev_id)),
          h('ul', null, cs.map(changeLine))));
      });
      l.add(box, h('h2', null, 'Versions'), l.table([
        { t: 'Id', n: true, v: function (x) { return String(x.id); } },
        { t: 'Source', v: function (x) { return x.source; } },
        { t: 'Loaded', v: function (x) { return x.id === 0 ? '(compiled in)' : l.when(x.loaded); } },
        { t: 'CVEs', n: true, v: function (x) { return x.ncves === undefined ? '' : l.num(x.ncves); } },
        { t: 'SHA-256', v: function (x) { return h('code', null, (x.sha256 || '').slice(0, 16) + '…'); } },
        { t: '', v: function (x) {
          if (x.id === r.active) return l.tag('active', 'safe');
          return l.state.role === 'admin' && !r.judging ? rollbackButton(x) : '';
        } }], r.rules, 'No rules.'));
    }).catch(l.fail(box));
  }

  l.register({ route: 'rules', label: 'Rules', show: function (params) {
    if (params && params.change) drill(params); else overview();
  } });
})();
