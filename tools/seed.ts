
/** The demo catalogue `orderstream seed` creates: enough to place an order right after `npm start`. */
export const demoCatalogue = [
  { sku: 'MUG-BLUE', name: 'Blue enamel mug', description: 'Holds 350 ml of coffee.', price: { amount: 1299, currency: 'EUR' }, onHand: 100 },
  { sku: 'MUG-RED', name: 'Red enamel mug', description: 'Holds 350 ml of tea.', price: { amount: 1299, currency: 'EUR' }, onHand: 100 },
  { sku: 'TEA-GREEN', name: 'Green tea, 100 g', description: 'Sencha from Shizuoka.', price: { amount: 850, currency: 'EUR' }, onHand: 250 },
  { sku: 'TEA-BLACK', name: 'Black tea, 100 g', description: 'Assam, strong.', price: { amount: 790, currency: 'EUR' }, onHand: 250 },
  { sku: 'KETTLE-1', name: 'Gooseneck kettle', description: 'Stovetop, 1 l.', price: { amount: 4900, currency: 'EUR' }, onHand: 20 },
  { sku: 'GRINDER-1', name: 'Hand coffee grinder', description: 'Ceramic burrs.', price: { amount: 3500, currency: 'EUR' }, onHand: 15 },
  { sku: 'BEANS-1KG', name: 'Coffee beans, 1 kg', description: 'Medium roast.', price: { amount: 2400, currency: 'EUR' }, onHand: 80 },
  { sku: 'LIMITED-1', name: 'Limited edition tin', description: 'Only three made.', price: { amount: 9900, currency: 'EUR' }, onHand: 3 },
] as const;

/** Sends one admin request to OrderStream, in-process or over HTTP. */
export type AdminRequest = (method: 'POST' | 'PUT', url: string, payload: unknown) => Promise<{ statusCode: number; body: string }>;

/**
 * Creates the demo products and sets their stock through the public API, so the same rules and
 * events apply as for any client. Products that exist are left as they are; stock is reset.
 */
export async function seedDemoData(send: AdminRequest): Promise<{ created: number; existing: number }> {
  let created = 0;
  let existing = 0;
  for (const product of demoCatalogue) {
    const { onHand, ...body } = product;
    const response = await send('POST', '/v1/products', body);
    if (response.statusCode === 201) created += 1;
    else if (response.statusCode === 409) existing += 1;
    else throw new Error(`Creating ${product.sku} failed: ${response.statusCode} ${response.body}`);
    const stocked = await send('PUT', `/v1/inventory/${product.sku}`, { onHand });
    if (stocked.statusCode !== 200) throw new Error(`Stocking ${product.sku} failed: ${stocked.statusCode} ${stocked.body}`);
  }
  return { created, existing };
}

/**
 * What `orderstream seed` prints, and all it prints on standard output: the demo credentials first,
 * then what was made and where, so a person reads nothing before what they came for.
 */
export function seedSummary(seeded: {
  users: { admin: { email: string; password: string }; customer: { email: string; password: string } };
  created: number; existing: number;
}, where: string): string {
  return [
    `Demo admin:    ${seeded.users.admin.email} / ${seeded.users.admin.password}`,
    `Demo customer: ${seeded.users.customer.email} / ${seeded.users.customer.password}`,
    `Demo catalogue: ${demoCatalogue.length} products with stock (${seeded.created} new, ${seeded.existing} already there) ${where}.`,
  ].join('\n');
}
