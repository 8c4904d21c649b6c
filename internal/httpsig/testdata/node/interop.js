// Interop with the npm http-message-signatures library (RFC 9421).
// Reads {cases: [...]} as JSON on stdin and prints one result per case:
//   {op: "sign", alg, key, keyid, request: {method, url, headers, body}, fields}
//     -> {headers}: the request's headers with Content-Digest (sha-256,
//        computed here), Signature-Input and Signature added
//   {op: "verify", alg, key, request} -> {valid} or {error}
// key is a PEM key, or a base64 secret for hmac-sha256.
'use strict';
const crypto = require('crypto');
const { httpbis, createSigner, createVerifier } = require('http-message-signatures');

function keyOf(c) {
  return c.alg === 'hmac-sha256' ? Buffer.from(c.key, 'base64') : c.key;
}

async function run(c) {
  try {
    if (c.op === 'sign') {
      const req = { ...c.request, headers: { ...c.request.headers } };
      if (c.request.body !== undefined) {
        const sum = crypto.createHash('sha256').update(c.request.body).digest('base64');
        req.headers['Content-Digest'] = `sha-256=:${sum}:`;
      }
      const signed = await httpbis.signMessage({ key: createSigner(keyOf(c), c.alg, c.keyid), fields: c.fields }, req);
      return { headers: signed.headers };
    }
    const valid = await httpbis.verifyMessage({
      keyLookup: async () => ({ algs: [c.alg], verify: createVerifier(keyOf(c), c.alg) }),
      maxAge: 300,
    }, c.request);
    return { valid };
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const { cases } = JSON.parse(input);
  const out = [];
  for (const c of cases) out.push(await run(c));
  process.stdout.write(JSON.stringify(out));
});
