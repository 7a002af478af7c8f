// validate.mjs - validate a log4scan report against the official schema of
// its format, for tests/t_formats.py.
//
//   node tests/schema/validate.mjs cyclonedx FILE   CycloneDX 1.5 JSON
//   node tests/schema/validate.mjs sarif FILE       SARIF 2.1.0
//
// CycloneDX: the validator of @cyclonedx/cyclonedx-library (the CycloneDX
// project's own JavaScript library), which compiles the bom-1.5 schema it
// ships (with the SPDX and JSF schemas it references) with ajv and formats.
// SARIF: the OASIS SARIF 2.1.0 schema (sarif-2.1.0-rtm.5.json, JSON Schema
// draft-04) as shipped by Microsoft's @microsoft/jest-sarif, compiled with
// ajv-draft-04 and ajv-formats.
// Prints "valid" and exits 0, or prints the errors (JSON) and exits 1.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const [kind, file] = process.argv.slice(2);
if (!kind || !file) {
  console.error('usage: validate.mjs cyclonedx|sarif FILE');
  process.exit(2);
}
const text = readFileSync(file, 'utf8');

function report(errors) {
  if (!errors || (Array.isArray(errors) && errors.length === 0)) {
    console.log('valid');
    process.exit(0);
  }
  console.log(JSON.stringify(errors, null, 1).slice(0, 4000));
  process.exit(1);
}

if (kind === 'cyclonedx') {
  const CDX = require('@cyclonedx/cyclonedx-library');
  const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
  report(await v.validate(text));
} else if (kind === 'sarif') {
  const Ajv04 = require('ajv-draft-04');
  const addFormats = require('ajv-formats');
  const pkg = dirname(require.resolve('@microsoft/jest-sarif/package.json'));
  const schema = JSON.parse(readFileSync(join(pkg, 'lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  // unicodeRegExp: false because the schema's "language" pattern ends in "]?",
  // which is only legal in a non-Unicode RegExp (as the schema's authors ran it).
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  report(validate(JSON.parse(text)) ? null : validate.errors);
} else {
  console.error('unknown kind ' + kind);
  process.exit(2);
}
