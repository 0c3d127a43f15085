import type { HttpApp } from '../../../../platform/http/app.ts';
import type { ListDeliveries } from '../../application/list-deliveries.ts';
import type { RetryDelivery } from '../../application/retry-delivery.ts';
import { registerDeliveryAdminRoutes } from './delivery-admin-routes.ts';
import { emailDeliveryDto, emailDeliveryPageDto, toEmailDeliveryDto } from './email-delivery-dtos.ts';

export interface EmailDeliveryAdminUseCases {
  listEmailDeliveries: ListDeliveries;
  retryEmailDelivery: RetryDelivery;
}

/**
 * The admin API of customer emails: list them (the dead ones above all) and give a dead one a fresh
 * set of attempts, as for webhook deliveries. The gateway's route policy makes it admin-only.
 */
export function emailDeliveryAdminRoutes(useCases: EmailDeliveryAdminUseCases) {
  return (app: HttpApp): void => {
    registerDeliveryAdminRoutes(app, {
      collection: 'email-deliveries', noun: 'email', tags: ['notifications (admin)'],
      list: useCases.listEmailDeliveries, retry: useCases.retryEmailDelivery,
      dto: emailDeliveryDto, pageDto: emailDeliveryPageDto, toDto: toEmailDeliveryDto,
    });
  };
}
