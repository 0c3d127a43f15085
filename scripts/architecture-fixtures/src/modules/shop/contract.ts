export interface OrderPlacedV1 {
  readonly orderId: string;
}
