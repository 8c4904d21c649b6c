// Signs requests with npm's http-message-signatures (RFC 9421), for the
// gateway's interop test. Reads {cases: [...]} as JSON on stdin and
// prints one result per case:
//   {alg, key, keyid, nonce, request: {method, url, headers, body}, fields}
//     -> {headers}: the request's headers with Content-Digest (sha-256,
//        computed here when there is a body), Signature-Input and
//        Signature added; or {error}
// key is a PEM private key, or a base64 secret for hmac-sha256. The
// module is found through NODE_PATH (internal/httpsig/testdata/node).
'use strict';
const crypto = require('crypto');
const { httpbis, createSigner } = require('http-message-signatures');

async function run(c) {
  try {
    const req = { ...c.request, headers: { ...c.request.headers } };
    if (c.request.body !== undefined) {
      const sum = crypto.createHash('sha256').update(c.request.body).digest('base64');
      req.headers['Content-Digest'] = `sha-256=:${sum}:`;
    }
    const key = c.alg === 'hmac-sha256' ? Buffer.from(c.key, 'base64') : c.key;
    const signed = await httpbis.signMessage({
      key: createSigner(key, c.alg, c.keyid),
      fields: c.fields,
      params: ['created', 'expires', 'keyid', 'alg', 'nonce'],
      paramValues: { nonce: c.nonce },
    }, req);
    return { headers: signed.headers };
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
