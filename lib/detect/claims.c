/* claims.c - version claims from metadata, judged against the class
 * evidence (see claims.h). */
#include "detect/claims.h"

#include <stdio.h>
#include <string.h>

/* Value of "key=value" (properties) or "Key: value" (manifest) into out,
 * cut to outlen - 1 bytes (*cut says so).  False when the key is absent. */
static bool header_value(const char *text, const char *key, char sep, char *out, size_t outlen,
			 bool *cut)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) || l[kl] != sep)
			continue;
		const char *v = l + kl + 1;
		while (*v == ' ')
			v++;
		size_t n = 0;
		while (v[n] && v[n] != '\n' && v[n] != '\r')
			n++;
		if (cut)
			*cut = n >= outlen;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, v, n);
		out[n] = 0;
		return true;
	}
	return false;
}

/* Is the manifest about this component (and not, say, the application a
 * fat jar was built for)? */
static bool manifest_is(const char *mf, enum component comp)
{
	char title[128] = "", sym[128] = "";
	header_value(mf, "Implementation-Title", ':', title, sizeof title, NULL);
	header_value(mf, "Bundle-SymbolicName", ':', sym, sizeof sym, NULL);
	if (comp == COMP_CORE)
		return !strcmp(title, "Apache Log4j Core") || !strncmp(sym, "org.apache.logging.log4j.core", 29);
	return !strcmp(title, "log4j") || !strcmp(title, "Apache Log4j") || !strcmp(title, "reload4j") ||
	       !strncmp(sym, "log4j", 5) || !strncmp(sym, "ch.qos.reload4j", 15);
}

bool claims_from_pom(const char *text, struct claim *c)
{
	c->source = "pom.properties";
	return header_value(text, "version", '=', c->text, sizeof c->text, &c->cut);
}

bool claims_from_manifest(const char *mf, enum component comp, struct claim *c)
{
	c->source = "manifest";
	return manifest_is(mf, comp) &&
	       (header_value(mf, "Implementation-Version", ':', c->text, sizeof c->text, &c->cut) ||
		header_value(mf, "Bundle-Version", ':', c->text, sizeof c->text, &c->cut));
}

/* A claim as the evidence shows it: printable ASCII (others '?'), at most
 * 48 bytes, "..." when there was more. */
static void shown(const struct claim *cl, char *out, size_t outlen)
{
	size_t n = 0;
	const char *s = cl->text;
	for (; s[n] && n + 4 < outlen && n < 48; n++)
		out[n] = (unsigned char)s[n] >= 0x20 && (unsigned char)s[n] < 0x7f ? s[n] : '?';
	out[n] = 0;
	if (s[n] || cl->cut)
		strcat(out, "...");
}

static bool version_text_ok(const char *v)
{
	struct version pv;
	if (!version_parse(v, &pv))
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			return false;
	return true;
}

bool claims_is_version(const struct claim *c)
{
	return !c->cut && version_text_ok(c->text);
}

bool claims_judge(const struct rules *r, enum component comp, const struct vset *set, bool constrained,
		 const struct claim *cl, struct finding *f)
{
	char show[64], range[96];
	shown(cl, show, sizeof show);
	rules_set_text(r, comp, set, range, sizeof range);
	const char *decides = constrained ? (range[0] ? range : "no known release") : "the version unknown";
	struct version v;
	if (cl->cut || !version_text_ok(cl->text)) {
		finding_add_evidence(f, "%s says \"%s\", which is not a version: the class files decide (%s)",
				     cl->source, show, decides);
		return false;
	}
	version_parse(cl->text, &v);
	int idx = rules_release_of(r, comp, &v);
	if (idx < 0) {
		finding_add_evidence(f, "%s says %s, which is not a known %s release: the class files decide (%s)",
				     cl->source, show, rules_component_name(comp), decides);
		return false;
	}
	if (constrained && !version_set_has(set, idx)) {
		finding_add_evidence(f, "%s says %s but the class files say %s: using the class files",
				     cl->source, show, decides);
		return false;
	}
	return true;
}

