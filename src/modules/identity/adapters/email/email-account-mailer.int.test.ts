import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SmtpEmailSender } from '../../../../platform/email/index.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { decodeQuotedPrintable, startLocalSmtpServer } from '../../../notifications/testing/local-smtp-server.ts';
import { accountMessageIdDomain, EmailAccountMailer } from './email-account-mailer.ts';

const from = 'OrderStream <accounts@orderstream.test>';
const token = 'tok_ThisIsTheSecretAccountToken_0123456789';
const reset = { kind: 'password-reset', to: 'ada@example.com', token, expiresAt: new Date(Date.now() + 30 * 60_000) } as const;

describe('EmailAccountMailer through SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startLocalSmtpServer>>;
  before(async () => { smtp = await startLocalSmtpServer(); });
  after(async () => { await smtp.close(); });

  test('when an email is sent, then the server receives it for the address, with its link and an identity Message-ID, and the log names only its id and kind', async () => {
    const logs = memoryLogger('info');
    const mailer = new EmailAccountMailer({
      sender: new SmtpEmailSender({ smtpUrl: smtp.url, from, messageIdDomain: accountMessageIdDomain }), logger: logs.logger, linkBaseUrl: 'https://shop.example.com',
    });
    mailer.send(reset);
    await mailer.idle();
    const mail = smtp.received.at(-1);
    assert.ok(mail);
    assert.deepEqual(mail.to, ['ada@example.com']);
    assert.match(mail.raw, /^Subject: Reset your password\r?$/m);
    assert.match(mail.raw, /^Message-ID: <acc_[0-9a-f-]+@identity\.orderstream>\r?$/m);
    assert.match(decodeQuotedPrintable(mail.raw), new RegExp(`https://shop\\.example\\.com/reset-password#token=${token}`));
    assert.deepEqual(logs.lines().map((line) => [line.msg, line.kind]), [['account email sent', 'password-reset']]);
    assert.ok(!logs.text().includes(token) && !logs.text().includes('ada@example.com'));
  });

  test('when the server refuses the email, then send still returns at once and the failure is logged without the token or the address', async () => {
    const logs = memoryLogger('info');
    const mailer = new EmailAccountMailer({ sender: new SmtpEmailSender({ smtpUrl: smtp.url, from, messageIdDomain: accountMessageIdDomain }), logger: logs.logger });
    smtp.refuse(true);
    try {
      const startedAt = performance.now();
      mailer.send(reset);
      assert.ok(performance.now() - startedAt < 50, 'send does not wait for the server');
      await mailer.idle();
    } finally {
      smtp.refuse(false);
    }
    const failure = logs.lines().find((line) => line.msg === 'account email could not be sent');
    assert.ok(failure, logs.text());
    assert.equal(failure.kind, 'password-reset');
    assert.equal(failure.reason, 'smtp 550');
    assert.ok(!logs.text().includes(token) && !logs.text().includes('ada@example.com'));
  });
});

describe('EmailAccountMailer against a server that never answers', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let url: string;
  before(async () => {
    silent = createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve); });
    url = `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => { silent.close(() => { resolve(); }); });
  });

  test('when the server accepts the connection and says nothing, then the send is given up within its timeout and logged', async () => {
    const logs = memoryLogger('info');
    const mailer = new EmailAccountMailer({
      sender: new SmtpEmailSender({ smtpUrl: url, from, messageIdDomain: accountMessageIdDomain, timeouts: { greetingMs: 60_000 } }),
      logger: logs.logger, timeoutMs: 300,
    });
    const startedAt = performance.now();
    mailer.send(reset);
    await mailer.idle();
    assert.ok(performance.now() - startedAt < 2000, 'given up within the timeout');
    const failure = logs.lines().find((line) => line.msg === 'account email could not be sent');
    assert.equal(failure?.reason, 'no answer within 300 ms');
  });
});
