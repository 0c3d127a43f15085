import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { renderEmail } from '../../domain/email-templates.ts';
import { decodeQuotedPrintable, startLocalSmtpServer, type ReceivedMail } from '../../testing/local-smtp-server.ts';
import { aConfirmedNotificationEvent, anOrderConfirmed } from '../../testing/order-event-builders.ts';
import { FileEmailSender, SmtpEmailSender } from '../../../../platform/email/index.ts';
import { DeliveryEmailSender, deliveryMessageIdDomain } from './delivery-email-sender.ts';

const from = 'OrderStream <orders@orderstream.test>';
const confirmed = aConfirmedNotificationEvent(anOrderConfirmed({ orderId: 'ord_mail_1', customer: { id: 'cus_1', email: 'ada@example.com' } }));

describe('DeliveryEmailSender through SmtpEmailSender', () => {
  let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;
  let smtpSender: SmtpEmailSender;
  let sender: DeliveryEmailSender;
  before(async () => {
    smtp = await startLocalSmtpServer();
    smtpSender = new SmtpEmailSender({ smtpUrl: smtp.url, from, messageIdDomain: deliveryMessageIdDomain });
    sender = new DeliveryEmailSender(smtpSender);
  });
  after(async () => {
    smtpSender.close();
    await smtp.close();
  });

  test('when an order confirmation is sent, then the SMTP server receives it for the customer with its subject and lines', async () => {
    await sender.send({ deliveryId: 'dlv_smtp_1', to: 'ada@example.com', ...renderEmail(confirmed.notice) });
    const mail: ReceivedMail | undefined = smtp.received.at(-1);
    assert.ok(mail);
    assert.deepEqual(mail.to, ['ada@example.com']);
    assert.equal(mail.from, 'orders@orderstream.test');
    assert.match(mail.raw, /^Subject: Your order ord_mail_1 is confirmed\r?$/m);
    assert.match(mail.raw, /^Message-ID: <dlv_smtp_1@notifications\.orderstream>\r?$/m);
    const body = decodeQuotedPrintable(mail.raw);
    assert.match(body, /^ {2}2 × Blue mug \(MUG-01\): €25\.98\r?$/m);
    assert.match(body, /^Total: €30\.48\r?$/m);
    assert.match(body, /Content-Type: text\/html/);
  });

  test('when the SMTP server cannot be reached, then sending fails', async () => {
    const closed = await startLocalSmtpServer();
    await closed.close();
    const unreachable = new SmtpEmailSender({ smtpUrl: closed.url, from, messageIdDomain: deliveryMessageIdDomain });
    await assert.rejects(new DeliveryEmailSender(unreachable).send({ deliveryId: 'dlv_smtp_2', to: 'ada@example.com', ...renderEmail(confirmed.notice) }));
    unreachable.close();
  });
});

describe('DeliveryEmailSender through FileEmailSender', () => {
  let folder: string;
  before(async () => { folder = await mkdtemp(path.join(tmpdir(), 'orderstream-mail-')); });
  after(async () => { await rm(folder, { recursive: true, force: true }); });

  test('when an email is sent, then it is written as <deliveryId>.eml in the outbox folder, and nothing else is left there', async () => {
    const outboxDir = path.join(folder, 'outbox');
    const sender = new DeliveryEmailSender(new FileEmailSender({ outboxDir, from, messageIdDomain: deliveryMessageIdDomain, logger: createLogger({ level: 'silent' }) }));
    await sender.send({ deliveryId: 'dlv_file_1', to: 'ada@example.com', ...renderEmail(confirmed.notice) });
    assert.deepEqual(await readdir(outboxDir), ['dlv_file_1.eml']);
    const raw = await readFile(path.join(outboxDir, 'dlv_file_1.eml'), 'utf8');
    assert.match(raw, /^To: ada@example\.com$/m);
    assert.match(raw, /^Subject: Your order ord_mail_1 is confirmed$/m);
    assert.match(decodeQuotedPrintable(raw), /^Total: €30\.48$/m);
  });
});
