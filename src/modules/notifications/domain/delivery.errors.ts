/** A webhook endpoint field breaks a rule. */
export class InvalidWebhookEndpointError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidWebhookEndpointError';
    this.field = field;
  }
}

/** No active webhook endpoint has this id. */
export class WebhookEndpointNotFoundError extends Error {
  constructor(endpointId: string) {
    super(`Webhook endpoint ${endpointId} does not exist`);
    this.name = 'WebhookEndpointNotFoundError';
  }
}

/** No delivery of this channel has this id. */
export class DeliveryNotFoundError extends Error {
  constructor(channel: 'email' | 'webhook', deliveryId: string) {
    super(`${channelName(channel)} delivery ${deliveryId} does not exist`);
    this.name = 'DeliveryNotFoundError';
  }
}

/** Only a dead delivery can be retried: a pending one is retried already, a sent or cancelled one is done. */
export class DeliveryNotDeadError extends Error {
  readonly status: string;
  constructor(channel: 'email' | 'webhook', deliveryId: string, status: string) {
    super(`${channelName(channel)} delivery ${deliveryId} is ${status}; only dead deliveries can be retried`);
    this.name = 'DeliveryNotDeadError';
    this.status = status;
  }
}

function channelName(channel: 'email' | 'webhook'): string {
  return channel === 'email' ? 'Email' : 'Webhook';
}
