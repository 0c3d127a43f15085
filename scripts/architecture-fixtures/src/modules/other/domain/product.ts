export interface Product {
  readonly sku: string;
}
