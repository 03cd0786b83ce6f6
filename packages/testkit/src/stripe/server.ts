import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseStripeForm, type FormObject, type FormValue } from './form.js';

/**
 * A loopback stand-in for the parts of Stripe's API the platform calls (customers, checkout sessions, refunds),
 * answering Stripe's object shapes and honouring `Idempotency-Key` as Stripe does: the same key with the same
 * parameters replays the first answer, with different parameters it is refused. Tests point the real `stripe`
 * SDK at it (host/port/protocol) and build the webhook events Stripe would send from its state.
 */
export interface StripeApiServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly customers: ReadonlyMap<string, StripeObject>;
  readonly sessions: ReadonlyMap<string, StripeObject>;
  readonly refunds: ReadonlyMap<string, StripeObject>;
  /** Every request as received (method, path, idempotency key, parsed form), oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Refunds created from now on answer this status (`succeeded` by default; `pending` settles later by webhook). */
  setRefundStatus(status: 'succeeded' | 'pending'): void;
  /** Makes refund creation fail (Stripe's 400 invalid_request_error) with this message; undefined restores success. */
  failRefunds(message: string | undefined): void;
  /** Pays an open session and answers the `checkout.session.completed` event Stripe would send. */
  completeSession(sessionId: string, options?: { paymentStatus?: 'paid' | 'unpaid' }): StripeEvent;
  /** Expires an open session and answers the `checkout.session.expired` event. */
  expireSession(sessionId: string): StripeEvent;
  /** Moves a refund to a final status and answers the `refund.updated` event. */
  settleRefund(refundId: string, status: 'succeeded' | 'failed'): StripeEvent;
  close(): Promise<void>;
}

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export interface StripeEvent {
  readonly id: string;
  readonly object: 'event';
  readonly type: string;
  readonly api_version: string;
  readonly created: number;
  readonly livemode: false;
  readonly pending_webhooks: number;
  readonly request: { id: null; idempotency_key: null };
  readonly data: { object: StripeObject };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly params: FormObject;
}

const API_VERSION = '2026-10-28.endive';

export async function startStripeApiServer(options: { host?: string } = {}): Promise<StripeApiServer> {
  const host = options.host ?? '127.0.0.1';
  const customers = new Map<string, StripeObject>();
  const sessions = new Map<string, StripeObject>();
  const refunds = new Map<string, StripeObject>();
  const requests: RecordedRequest[] = [];
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  let refundStatus: 'succeeded' | 'pending' = 'succeeded';
  let refundFailure: string | undefined;
  let baseUrl = '';

  const now = () => Math.floor(Date.now() / 1000);
  const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
  const event = (type: string, object: StripeObject): StripeEvent => ({
    id: newId('evt'),
    object: 'event',
    type,
    api_version: API_VERSION,
    created: now(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: structuredClone(object) },
  });

  const routes: Array<{ method: string; pattern: RegExp; handle: (params: FormObject, match: RegExpExecArray) => [number, unknown] }> = [
    {
      method: 'POST',
      pattern: /^\/v1\/customers$/,
      handle: (params) => {
        const customer: StripeObject = { id: newId('cus'), object: 'customer', created: now(), livemode: false, email: params['email'] ?? null, metadata: params['metadata'] ?? {} };
        customers.set(customer.id, customer);
        return [200, customer];
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/checkout\/sessions$/,
      handle: (params) => {
        const items = (params['line_items'] as FormValue[] | undefined) ?? [];
        const amount = items.reduce<number>((sum, item) => {
          const line = item as FormObject;
          const price = line['price_data'] as FormObject | undefined;
          return sum + Number(price?.['unit_amount'] ?? 0) * Number(line['quantity'] ?? 1);
        }, 0);
        const currency = String(((items[0] as FormObject | undefined)?.['price_data'] as FormObject | undefined)?.['currency'] ?? 'usd');
        if (amount <= 0) return invalidRequest('line_items: an amount is required', 'parameter_missing');
        if (params['customer'] !== undefined && !customers.has(String(params['customer']))) return missing('customer', String(params['customer']));
        const id = `cs_test_${randomBytes(16).toString('hex')}`;
        const session: StripeObject = {
          id,
          object: 'checkout.session',
          amount_subtotal: amount,
          amount_total: amount,
          currency,
          client_reference_id: params['client_reference_id'] ?? null,
          customer: params['customer'] ?? null,
          created: now(),
          expires_at: params['expires_at'] === undefined ? now() + 24 * 3600 : Number(params['expires_at']),
          livemode: false,
          metadata: params['metadata'] ?? {},
          mode: params['mode'] ?? 'payment',
          payment_intent: null,
          payment_status: 'unpaid',
          status: 'open',
          success_url: params['success_url'] ?? null,
          cancel_url: params['cancel_url'] ?? null,
          url: `${baseUrl}/c/pay/${id}`,
        };
        sessions.set(id, session);
        return [200, session];
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/,
      handle: (_params, match) => {
        const session = sessions.get(decodeURIComponent(match[1]!));
        return session ? [200, session] : missing('checkout.session', match[1]!);
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/refunds$/,
      handle: (params) => {
        if (refundFailure) return invalidRequest(refundFailure, 'charge_disputed');
        const paymentIntent = String(params['payment_intent'] ?? '');
        const paid = [...sessions.values()].find((session) => session['payment_intent'] === paymentIntent);
        if (!paid) return missing('payment_intent', paymentIntent);
        const total = Number(paid['amount_total']);
        const refunded = [...refunds.values()].filter((refund) => refund['payment_intent'] === paymentIntent && refund['status'] !== 'failed').reduce((sum, refund) => sum + Number(refund['amount']), 0);
        const amount = params['amount'] === undefined ? total - refunded : Number(params['amount']);
        if (amount <= 0 || refunded + amount > total) return invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${total - refunded})`, 'amount_too_large');
        const refund: StripeObject = {
          id: newId('re'),
          object: 'refund',
          amount,
          currency: paid['currency'],
          created: now(),
          metadata: params['metadata'] ?? {},
          payment_intent: paymentIntent,
          reason: params['reason'] ?? null,
          status: refundStatus,
        };
        refunds.set(refund.id, refund);
        return [200, refund];
      },
    },
  ];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const params = parseStripeForm(method === 'GET' ? (req.url ?? '').split('?')[1] ?? '' : body);
    const idempotencyKey = header(req, 'idempotency-key');
    requests.push({ method, path, idempotencyKey, params });
    const send = (status: number, payload: unknown, replayed = false) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req'), ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
      res.end(JSON.stringify(payload));
    };
    if (!/^Bearer sk_/.test(header(req, 'authorization') ?? '')) {
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const route = routes.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    if (!route) return send(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } });
    const fingerprint = createHash('sha256').update(`${method} ${path} ${body}`).digest('hex');
    if (method === 'POST' && idempotencyKey) {
      const earlier = idempotent.get(idempotencyKey);
      if (earlier && earlier.fingerprint !== fingerprint) {
        return send(400, {
          error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.` },
        });
      }
      if (earlier) return send(earlier.status, earlier.body, true);
    }
    const [status, payload] = route.handle(params, route.pattern.exec(path)!);
    // Stripe keeps the outcome of a POST under its key, errors included (except 5xx and rate limits).
    if (method === 'POST' && idempotencyKey) idempotent.set(idempotencyKey, { fingerprint, status, body: payload });
    send(status, payload);
  }

  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host}:${port}`;

  const openSession = (sessionId: string) => {
    const session = sessions.get(sessionId);
    // ci-allow canonical_error_guard: test fixture misuse, never reaches a client
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    return session;
  };

  return {
    url: baseUrl,
    host,
    port,
    customers,
    sessions,
    refunds,
    requests,
    setRefundStatus: (status) => void (refundStatus = status),
    failRefunds: (message) => void (refundFailure = message),
    completeSession(sessionId, completeOptions = {}) {
      const session = openSession(sessionId);
      const paid = (completeOptions.paymentStatus ?? 'paid') === 'paid';
      // Completing again (a test replaying Stripe) keeps the payment that was made.
      Object.assign(session, { status: 'complete', payment_status: paid ? 'paid' : 'unpaid', payment_intent: session['payment_intent'] ?? newId('pi'), url: null });
      return event('checkout.session.completed', session);
    },
    expireSession(sessionId) {
      const session = openSession(sessionId);
      Object.assign(session, { status: 'expired', url: null });
      return event('checkout.session.expired', session);
    },
    settleRefund(refundId, status) {
      const refund = refunds.get(refundId);
      // ci-allow canonical_error_guard: test fixture misuse, never reaches a client
      if (!refund) throw new Error(`no refund ${refundId}`);
      refund['status'] = status;
      return event('refund.updated', refund);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function invalidRequest(message: string, code: string): [number, unknown] {
  return [400, { error: { type: 'invalid_request_error', code, message } }];
}

function missing(kind: string, id: string): [number, unknown] {
  return [404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'` } }];
}
