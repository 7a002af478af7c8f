/* view_audit.js - the audit log (#/audit, admins only; issue 20 point 9):
 * logins, failed logins (the user name as it was typed, and the client's
 * address), lockouts, user, token and device changes from the command line
 * and the dashboard, and the reports each token sent per day.  Everything
 * shown is text (app.js's h(): escape by construction); a failed login's
 * user name is whatever someone typed. */
'use strict';

(function () {
  var l = window.l4s;
  if (!l) return;
  var KINDS = ['login', 'login_failed', 'lockout', 'user_add', 'user_password', 'user_role', 'user_delete',
    'token_create', 'token_revoke', 'token_delete', 'device_retire', 'device_unretire', 'device_reappeared',
    'device_delete', 'ingest'];
  function kindTag(k) {
    var cls = k === 'login_failed' || k === 'lockout' || k === 'device_reappeared' ? 'vulnerable' : '';
    return l.link('audit', { kind: k }, l.tag(k, cls));
  }
  l.register({ route: 'audit', label: 'Audit', admin: true, show: function (p) {
    l.listView({ route: 'audit', api: 'audit', title: 'Audit log', empty: 'No event yet.', cols: [
      { t: 'When', v: function (e) { return l.when(e.at); } },
      { t: 'Event', v: function (e) { return kindTag(e.kind); } },
      { t: 'By', v: function (e) { return e.actor ? l.link('audit', { actor: e.actor }, e.actor) : '-'; } },
      { t: 'Subject', path: 1, v: function (e) { return e.subject; } },
      { t: 'Client', v: function (e) { return e.client || ''; } },
      { t: 'Detail', v: function (e) { return e.detail || ''; } },
      { t: 'Count', n: 1, v: function (e) { return l.num(e.count); } }],
    filters: [{ name: 'kind', type: 'select', label: 'any event', values: KINDS }, { name: 'actor', label: 'by (user, token)' }] }, p);
  } });
})();
