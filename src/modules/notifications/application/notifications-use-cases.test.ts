import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { webhookEventTypes } from '../contract.ts';
import { DeliveryNotDeadError, DeliveryNotFoundError, InvalidWebhookEndpointError, WebhookEndpointNotFoundError } from '../domain/delivery.errors.ts';
import { notifiedEventTypes } from '../domain/notification-event.ts';
import { ListedDestinationPolicy } from '../testing/fake-destination-policy.ts';
import { RecordingEmailSender, ScriptedWebhookSender } from '../testing/fake-senders.ts';
import { inMemoryNotificationStores, type InMemoryDeliveryRepository, type InMemoryWebhookEndpointRepository } from '../testing/in-memory-delivery-repository.ts';
import { aConfirmedNotificationEvent, anOrderConfirmed } from '../testing/order-event-builders.ts';
import { DeleteWebhookEndpoint } from './delete-webhook-endpoint.ts';
import { ListDeliveries } from './list-deliveries.ts';
import { ListWebhookEndpoints } from './list-webhook-endpoints.ts';
import { RegisterWebhookEndpoint } from './register-webhook-endpoint.ts';
import { RetryDelivery } from './retry-delivery.ts';
import { ScheduleDeliveries } from './schedule-deliveries.ts';
import { SendDueDeliveries } from './send-due-deliveries.ts';

let deliveries: InMemoryDeliveryRepository;
let endpoints: InMemoryWebhookEndpointRepository;
let clock: number;
const now = () => new Date(Date.UTC(2026, 0, 1) + clock);
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeEach(() => {
  ({ deliveries, endpoints } = inMemoryNotificationStores());
  clock = 0;
});

function worker(email: RecordingEmailSender, webhooks: ScriptedWebhookSender, maxAttempts = 3): SendDueDeliveries {
  return new SendDueDeliveries({ deliveries, email, webhooks, policy: { maxAttempts, baseDelayMs: 1000 }, leaseMs: 60_000, log: silent, now, random: () => 1 });
}

async function registerEndpoint(events: string[] = ['orders.confirmed']) {
  return new RegisterWebhookEndpoint({ endpoints, destinations: new ListedDestinationPolicy(), now }).execute({ url: 'https://example.com/hook', events });
}

test('when the contract and the domain list the subscribable event types, then they are the same list', () => {
  assert.deepEqual([...webhookEventTypes], [...notifiedEventTypes]);
});

describe('ScheduleDeliveries', () => {
  test('when an order is confirmed, then one email and one webhook per subscribed endpoint are scheduled', async () => {
    const subscribed = await registerEndpoint(['orders.confirmed']);
    await registerEndpoint(['orders.cancelled']);
    const event = aConfirmedNotificationEvent();
    assert.equal(await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(event), 2);
    assert.deepEqual([...deliveries.deliveries.values()].map((delivery) => [delivery.channel, delivery.recipient]).sort(), [
      ['email', event.notice.customerEmail], ['webhook', subscribed.id],
    ]);
  });

  test('when the same event arrives again, or the same fact under another message id, then nothing more is scheduled', async () => {
    await registerEndpoint();
    const schedule = new ScheduleDeliveries({ deliveries, endpoints, now });
    const payload = anOrderConfirmed();
    const event = aConfirmedNotificationEvent(payload);
    await schedule.execute(event);
    assert.equal(await schedule.execute(event), 0);
    assert.equal(await schedule.execute(aConfirmedNotificationEvent(payload, crypto.randomUUID())), 0);
    assert.equal(deliveries.deliveries.size, 2);
  });
});

describe('SendDueDeliveries', () => {
  test('when sending succeeds, then the email carries the rendered template, the webhook the event, and each is announced delivered', async () => {
    await registerEndpoint();
    const event = aConfirmedNotificationEvent();
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(event);
    const email = new RecordingEmailSender();
    const webhooks = new ScriptedWebhookSender();
    assert.equal(await worker(email, webhooks).execute(), 2);
    assert.equal(email.sent[0]?.to, event.notice.customerEmail);
    assert.match(email.sent[0].text, /Total: €30\.48/);
    assert.deepEqual(webhooks.requests[0]?.body, { id: event.id, type: 'orders.confirmed', occurredAt: event.occurredAt.toISOString(), data: event.data });
    assert.ok([...deliveries.deliveries.values()].every((delivery) => delivery.status === 'sent'));
    assert.deepEqual(deliveries.announced.map((announcement) => [announcement.type, announcement.payload.channel, announcement.payload.orderId]).sort(), [
      ['notifications.delivered', 'email', event.orderId], ['notifications.delivered', 'webhook', event.orderId],
    ]);
    assert.equal(await worker(email, webhooks).execute(), 0);
  });

  test('when a webhook fails, then it waits for its backoff, and once the attempts run out it is dead and announced failed', async () => {
    await registerEndpoint();
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    const webhooks = new ScriptedWebhookSender(['fail', 'fail', 'fail']);
    const send = worker(new RecordingEmailSender(), webhooks, 3);
    await send.execute();
    const webhook = () => [...deliveries.deliveries.values()].find((delivery) => delivery.channel === 'webhook');
    assert.deepEqual([webhook()?.status, webhook()?.attempts, webhook()?.lastError], ['pending', 1, 'answered 5xx']);
    assert.equal(await send.execute(), 0, 'not due before its backoff');
    clock += 1000;
    await send.execute();
    clock += 2000;
    await send.execute();
    assert.deepEqual([webhook()?.status, webhook()?.attempts], ['dead', 3]);
    assert.equal(webhooks.requests.length, 3);
    assert.deepEqual(deliveries.announced.filter((announcement) => announcement.type === 'notifications.failed').map((announcement) => announcement.payload.channel), ['webhook']);
  });

  test('when a lease ran out and another worker took the delivery, then the first worker records nothing', async () => {
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    const [first] = await deliveries.claimDue({ now: now(), leaseUntil: new Date(now().getTime() + 10), limit: 1 });
    assert.ok(first);
    clock += 20;
    const [second] = await deliveries.claimDue({ now: now(), leaseUntil: new Date(now().getTime() + 10), limit: 1 });
    assert.equal(second?.delivery.attempts, 2);
    assert.equal(await deliveries.recordAttempt(first.leaseToken, { ...first.delivery, status: 'sent' }, null), false);
    assert.equal(await deliveries.recordAttempt(second.leaseToken, { ...second.delivery, status: 'sent' }, null), true);
  });
});

describe('webhook endpoints', () => {
  test('when an endpoint is registered, then it gets a strong secret, and the list pages through endpoints in order', async () => {
    const registered = [];
    for (let index = 0; index < 3; index += 1) {
      clock += 1000;
      registered.push(await registerEndpoint());
    }
    assert.match(registered[0]?.secret ?? '', /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(registered[0]?.secret, registered[1]?.secret);
    const list = new ListWebhookEndpoints({ endpoints });
    const first = await list.execute({ limit: 2 });
    assert.ok(first.next);
    const second = await list.execute({ limit: 2, after: first.next });
    assert.deepEqual([...first.items, ...second.items].map((endpoint) => endpoint.id), registered.map((endpoint) => endpoint.id));
    assert.equal(second.next, null);
  });

  test('when the destination policy refuses the URL, then registration fails on "url" with a generic reason and nothing is stored', async () => {
    const destinations = new ListedDestinationPolicy(['http://10.0.0.1/hook']);
    const register = new RegisterWebhookEndpoint({ endpoints, destinations, now });
    const refusal = await register.execute({ url: 'http://10.0.0.1/hook', events: ['orders.confirmed'] }).catch((error: unknown) => error);
    assert.ok(refusal instanceof InvalidWebhookEndpointError);
    assert.deepEqual([refusal.field, refusal.message], ['url', 'url is not an allowed webhook destination']);
    assert.deepEqual(destinations.asked, ['http://10.0.0.1/hook']);
    assert.equal((await new ListWebhookEndpoints({ endpoints }).execute({ limit: 10 })).items.length, 0);
  });

  test('when an endpoint is deleted, then it gets no new deliveries and its unsent ones are cancelled; deleting it again is not found', async () => {
    const endpoint = await registerEndpoint();
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    await new DeleteWebhookEndpoint({ endpoints }).execute(endpoint.id);
    assert.equal([...deliveries.deliveries.values()].find((delivery) => delivery.channel === 'webhook')?.status, 'cancelled');
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    assert.equal([...deliveries.deliveries.values()].filter((delivery) => delivery.channel === 'webhook').length, 1);
    await assert.rejects(new DeleteWebhookEndpoint({ endpoints }).execute(endpoint.id), WebhookEndpointNotFoundError);
  });
});

describe('RetryDelivery', () => {
  test('when a dead delivery is retried, then it is pending with fresh attempts, the worker is woken, and it is delivered', async () => {
    await registerEndpoint();
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    const webhooks = new ScriptedWebhookSender(['fail', 'ok']);
    await worker(new RecordingEmailSender(), webhooks, 1).execute();
    const [dead] = (await new ListDeliveries({ deliveries, channel: 'webhook' }).execute({ status: 'dead', limit: 10 })).items;
    assert.ok(dead);
    let woken = 0;
    const retried = await new RetryDelivery({ deliveries, channel: 'webhook', wakeWorker: () => { woken += 1; }, now }).execute(dead.delivery.id);
    assert.deepEqual([retried.delivery.status, retried.delivery.attempts, woken], ['pending', 0, 1]);
    await worker(new RecordingEmailSender(), webhooks, 1).execute();
    assert.equal(deliveries.deliveries.get(dead.delivery.id)?.status, 'sent');
  });

  test('when a dead email is retried after the mail server recovers, then it is sent once; as a webhook delivery it is unknown', async () => {
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    const email = new RecordingEmailSender({ failures: 1 });
    await worker(email, new ScriptedWebhookSender(), 1).execute();
    const [dead] = (await new ListDeliveries({ deliveries, channel: 'email' }).execute({ status: 'dead', limit: 10 })).items;
    assert.ok(dead);
    assert.deepEqual((await new ListDeliveries({ deliveries, channel: 'webhook' }).execute({ status: 'dead', limit: 10 })).items, []);
    await assert.rejects(new RetryDelivery({ deliveries, channel: 'webhook', wakeWorker: () => undefined, now }).execute(dead.delivery.id), DeliveryNotFoundError);
    await new RetryDelivery({ deliveries, channel: 'email', wakeWorker: () => undefined, now }).execute(dead.delivery.id);
    await worker(email, new ScriptedWebhookSender(), 1).execute();
    await worker(email, new ScriptedWebhookSender(), 1).execute();
    assert.deepEqual([deliveries.deliveries.get(dead.delivery.id)?.status, email.sent.length], ['sent', 1]);
  });

  test('when the delivery is unknown or not dead, then it is refused and nothing changes', async () => {
    await registerEndpoint();
    await new ScheduleDeliveries({ deliveries, endpoints, now }).execute(aConfirmedNotificationEvent());
    const retry = new RetryDelivery({ deliveries, channel: 'webhook', wakeWorker: () => undefined, now });
    await assert.rejects(retry.execute('dlv_missing'), DeliveryNotFoundError);
    const pending = [...deliveries.deliveries.values()].find((delivery) => delivery.channel === 'webhook');
    assert.ok(pending);
    await assert.rejects(retry.execute(pending.id), DeliveryNotDeadError);
    assert.equal(deliveries.deliveries.get(pending.id), pending);
  });
});
