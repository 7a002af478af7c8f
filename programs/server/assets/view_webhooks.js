/* view_webhooks.js - the dashboard's Webhooks page (#/webhooks): the
 * targets (never their secrets: the API does not send them), adding one,
 * "Send test" and "Delete" per target (admin actions: the server refuses
 * them to anyone else), and the delivery log, one row per attempt.
 * Built with app.js's helpers (window.l4s); every value from the server is
 * text, never HTML. */
(function () {
  var l4s = window.l4s;
  if (!l4s) return;
  var h = l4s.h, add = l4s.add;
  var KINDS = ['device_critical_exposed', 'device_attacked', 'archive_vulnerable', 'rules_changed'];

  function answer(r) {
    return r.json().then(function (j) {
      if (!r.ok) throw new Error(j.error || r.statusText);
      return j;
    });
  }

  function addForm(msg, reload) {
    var url = h('input', { name: 'url', id: 'webhook-url', type: 'url', required: true,
      placeholder: 'https://hooks.example/log4scan', size: 40 });
    var secret = h('input', { name: 'secret', id: 'webhook-secret', type: 'password', required: true,
      minlength: 16, autocomplete: 'new-password', placeholder: 'secret, 16 bytes or more' });
    var boxes = KINDS.map(function (k) {
      return h('label', null, h('input', { type: 'checkbox', name: 'event', value: k, checked: true }), ' ' + k);
    });
    return h('form', { class: 'filters', id: 'webhook-add', onsubmit: function (ev) {
      ev.preventDefault();
      var events = boxes.map(function (b) { return b.firstChild; })
        .filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
      l4s.post('webhooks', { url: url.value, secret: secret.value, events: events }).then(answer).then(function (j) {
        secret.value = ''; url.value = '';
        msg.textContent = 'Webhook ' + j.id + ' added.';
        reload();
      }).catch(function (e) { msg.textContent = 'Error: ' + (e.message || e); });
    } }, url, secret, boxes, h('button', { type: 'submit', id: 'webhook-add-submit' }, 'Add webhook'));
  }

  function action(id, what, msg, reload) {
    return h('button', { class: 'webhook-' + what, 'data-id': id, onclick: function () {
      if (what === 'delete' && !window.confirm('Delete webhook ' + id + '? Its pending deliveries are cancelled.')) return;
      l4s.post('webhooks/' + id + '/' + what).then(answer).then(function () {
        msg.textContent = what === 'test' ? 'Test queued for webhook ' + id + '; see the log below.'
          : 'Webhook ' + id + ' deleted.';
        reload();
        /* the delivery thread sends within a second or two: show its attempt */
        if (what === 'test') { setTimeout(reload, 2000); setTimeout(reload, 6000); }
      }).catch(function (e) { msg.textContent = 'Error: ' + (e.message || e); });
    } }, what === 'test' ? 'Send test' : 'Delete');
  }

  function lastAttempt(w) {
    if (!w.last_attempt) return '-';
    return [l4s.when(w.last_attempt), ' ', w.last_error ? l4s.tag(w.last_error, 'vulnerable')
      : l4s.tag('HTTP ' + w.last_status, 'safe')];
  }

  function view(params) {
    var msg = h('p', { class: 'muted', id: 'webhook-msg' });
    var targets = h('div', { id: 'webhook-targets' }, h('p', { class: 'muted' }, 'Loading…'));
    var log = h('div', { id: 'webhook-log' }, h('p', { class: 'muted' }, 'Loading…'));
    function reload() {
      l4s.api('webhooks').then(function (r) {
        targets.textContent = '';
        add(targets, l4s.table([
          { t: 'Id', n: 1, v: function (w) { return String(w.id); } },
          { t: 'URL', path: 1, v: function (w) { return w.url; } },
          { t: 'Events', v: function (w) { return w.events.map(function (e) { return l4s.tag(e); }); } },
          { t: 'Pending', n: 1, v: function (w) { return l4s.num(w.pending); } },
          { t: 'Delivered', n: 1, v: function (w) { return l4s.num(w.delivered); } },
          { t: 'Failed', n: 1, v: function (w) { return l4s.num(w.failed); } },
          { t: 'Last attempt', v: lastAttempt },
          { t: '', v: function (w) { return [action(w.id, 'test', msg, reload), ' ', action(w.id, 'delete', msg, reload)]; } }
        ], r.webhooks, 'No webhook yet: add one below, or with `log4scan-server webhook add URL --secret-file FILE`.'));
      }).catch(l4s.fail(targets));
      l4s.api('webhooks/log?limit=100').then(function (r) {
        log.textContent = '';
        add(log, l4s.table([
          { t: 'Time', v: function (x) { return l4s.when(x.at); } },
          { t: 'Webhook', n: 1, v: function (x) { return String(x.webhook_id); } },
          { t: 'Target', path: 1, v: function (x) { return x.url; } },
          { t: 'Event', v: function (x) { return x.event + ' #' + x.event_id; } },
          { t: 'Attempt', n: 1, v: function (x) { return String(x.attempt); } },
          { t: 'Result', v: function (x) {
            return x.error ? l4s.tag((x.status ? 'HTTP ' + x.status + ': ' : '') + x.error, 'vulnerable')
              : l4s.tag('HTTP ' + x.status, 'safe');
          } }
        ], r.items, 'No delivery attempt yet.'));
      }).catch(l4s.fail(log));
    }
    l4s.setMain(h('h1', null, 'Webhooks'),
      h('p', { class: 'muted' }, 'Signed JSON POSTs when a device becomes critically exposed or is attacked, ' +
        'or an archive is first seen vulnerable, or new rules change which devices a CVE affects ' +
        '(X-Log4scan-Signature: HMAC-SHA256 of "timestamp.body"). ' +
        'Adding, testing and deleting are for administrators.'),
      targets, msg, h('h2', null, 'Add a webhook'), addForm(msg, reload),
      h('h2', null, 'Delivery log (newest first)'), log);
    reload();
  }

  l4s.register({ route: 'webhooks', label: 'Webhooks', show: view });
})();
