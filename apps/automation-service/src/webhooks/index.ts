export { WebhookDeliveries, type WebhookDeliveriesDeps } from './webhook-deliveries';
export type { DeliverySettings } from './webhook-deliverer';
